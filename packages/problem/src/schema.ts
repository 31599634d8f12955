import Type from 'typebox'

/** The problem+json body, for route response schemas and the OpenAPI document. */
export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer({ minimum: 400, maximum: 599 }),
    detail: Type.Optional(Type.String()),
    instance: Type.Optional(Type.String()),
    code: Type.String(),
    errors: Type.Optional(Type.Array(Type.Object({ pointer: Type.String(), in: Type.String(), detail: Type.String() }))),
    retryAfter: Type.Optional(Type.Integer())
  },
  { $id: 'Problem', description: 'RFC 9457 problem details' }
)

/** A problem response as route schemas and the OpenAPI document describe it: served as application/problem+json. */
export const ProblemResponse = {
  description: 'RFC 9457 problem details',
  content: { 'application/problem+json': { schema: ProblemSchema } }
} as const

/** Response schemas for the problem statuses a route can answer with: `...problemResponses(400, 404)`. */
export function problemResponses<const Codes extends readonly number[]>(...codes: Codes) {
  return Object.fromEntries(codes.map((code) => [code, ProblemResponse])) as Record<Codes[number], typeof ProblemResponse>
}
