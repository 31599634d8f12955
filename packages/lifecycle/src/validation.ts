import { Ajv, type Options } from 'ajv'
import addFormatsModule from 'ajv-formats'
import type { FastifyInstance } from 'fastify'

// ajv-formats is CommonJS with a default export.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv

const common: Options = { removeAdditional: false, useDefaults: true, allErrors: false, strict: false }

/**
 * Request validation that means what the schemas say. Fastify's default Ajv strips unknown
 * properties (so `additionalProperties: false` never refuses anything) and coerces types
 * everywhere (so `{"name": 7}` passes as "7"). Here bodies are validated strictly; only the
 * query string, path parameters and headers, which arrive as text, are coerced.
 */
export function useStrictValidation(app: FastifyInstance): void {
  const body = addFormats(new Ajv({ ...common, coerceTypes: false }))
  const text = addFormats(new Ajv({ ...common, coerceTypes: 'array' }))
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? body : text).compile(schema))
}
