import swagger, { type SwaggerTransformObject } from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'

interface OpenApiDocument {
  paths?: Record<
    string,
    Record<
      string,
      { requestBody?: { required?: boolean; content?: Record<string, { schema?: { type?: string; anyOf?: Array<{ type?: string }> } }> } }
    >
  >
}

/**
 * A body schema that also allows null (`Type.Union([Body, Type.Null()])`, e.g. logout's) means
 * the body may be left out: say so (requestBody.required false) and describe only the object.
 */
function optionalBodies(document: OpenApiDocument): OpenApiDocument {
  for (const operations of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(operations)) {
      const body = operation.requestBody
      for (const media of Object.values(body?.content ?? {})) {
        const choices = media.schema?.anyOf
        if (body === undefined || choices === undefined || !choices.some((choice) => choice.type === 'null')) continue
        const rest = choices.filter((choice) => choice.type !== 'null')
        media.schema = rest.length === 1 ? (rest[0] as { type?: string }) : { anyOf: rest }
        body.required = false
      }
    }
  }
  return document
}

/**
 * The OpenAPI document (/docs/json) generated from the route schemas by @fastify/swagger
 * (https://github.com/fastify/fastify-swagger) and its UI at /docs. Register before the routes.
 */
export async function apiDocs(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'polyshop API',
        version: '1.0.0',
        description: 'The public REST API of polyshop. Errors are RFC 9457 problem+json with a stable `code`. The same data is at /graphql.'
      },
      tags: [
        { name: 'auth', description: 'Accounts and sessions' },
        { name: 'users', description: 'Profiles and the admin view of accounts' },
        { name: 'products', description: 'The catalog' },
        { name: 'orders', description: 'Orders of the signed-in user' }
      ],
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT (ES256)' } }
      }
    },
    // GraphQL is described by its own schema (the same types), not as two opaque routes here.
    transform: ({ schema, url }) => ({
      schema: url === '/graphql' || url.startsWith('/graphiql') ? { ...schema, hide: true } : schema,
      url
    }),
    transformObject: (document) =>
      optionalBodies((document as unknown as { openapiObject: OpenApiDocument }).openapiObject) as ReturnType<SwaggerTransformObject>
  })
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list', deepLinking: true } })
}
