import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { SERVICE_TOKEN_PATH } from '@polyshop/auth'
import { problemResponses } from '@polyshop/problem'
import Type from 'typebox'
import type { ServiceClients } from '../domain/service-clients.js'

const ServiceTokenBody = Type.Object(
  {
    clientId: Type.String({ pattern: '^[a-z][a-z0-9-]*$', maxLength: 64 }),
    clientSecret: Type.String({ minLength: 1, maxLength: 256 })
  },
  { additionalProperties: false }
)

const ServiceTokenSchema = Type.Object(
  {
    accessToken: Type.String(),
    tokenType: Type.Literal('Bearer'),
    expiresIn: Type.Integer({ description: 'seconds' })
  },
  { additionalProperties: false }
)

export interface ServiceTokenRoutesOptions {
  serviceClients: ServiceClients
  /** Per client IP, per minute: a service asks once per token lifetime; guessing secrets stays slow. */
  rateLimitPerMinute: number
}

/**
 * POST /internal/v1/service-token: client credentials of polyshop's own services. Internal:
 * the gateway routes no /internal path, and the NetworkPolicy admits only the services.
 */
export const serviceTokenRoutes: FastifyPluginAsyncTypebox<ServiceTokenRoutesOptions> = async (
  app,
  { serviceClients, rateLimitPerMinute }
) => {
  app.post(
    SERVICE_TOKEN_PATH,
    {
      config: { rateLimit: { max: rateLimitPerMinute, timeWindow: '1 minute' } },
      schema: { body: ServiceTokenBody, response: { 200: ServiceTokenSchema, ...problemResponses(400, 401, 429) } }
    },
    async (request) => serviceClients.issue(request.body.clientId, request.body.clientSecret)
  )
}
