import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { REVOCATIONS_PATH } from '@polyshop/auth'
import { problemResponses } from '@polyshop/problem'
import Type from 'typebox'
import type { RevocationStore } from '../repositories/revocations.js'

const RevocationPageSchema = Type.Object(
  {
    now: Type.Integer({ description: 'epoch ms at this service; ask from here next time' }),
    next: Type.Optional(
      Type.Object(
        { since: Type.Integer(), after: Type.String() },
        { additionalProperties: false, description: 'present when the page was full: ask for the rest from here, at once' }
      )
    ),
    revocations: Type.Array(
      Type.Object(
        {
          id: Type.String(),
          userId: Type.String(),
          sessionId: Type.Optional(Type.String()),
          revokedAt: Type.Integer({ description: 'epoch ms' })
        },
        { additionalProperties: false }
      )
    )
  },
  { additionalProperties: false }
)

/**
 * GET /internal/v1/revocations?since=<epoch ms>[&after=<id>]: ended sessions and disabled accounts, for every
 * service's token verifier (polled each second). Internal: the gateway routes no /internal path.
 * It names user and session ids only, never a token.
 */
export const revocationRoutes: FastifyPluginAsyncTypebox<{ revocations: RevocationStore }> = async (app, { revocations }) => {
  app.get(
    REVOCATIONS_PATH,
    {
      // Every replica of every service asks each second: not worth a log line each.
      logLevel: 'warn',
      schema: {
        querystring: Type.Object(
          {
            since: Type.Integer({ minimum: 0, default: 0 }),
            after: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'the last id read at `since` (from `next`)' }))
          },
          { additionalProperties: false }
        ),
        response: { 200: RevocationPageSchema, ...problemResponses(400) }
      }
    },
    async (request) => revocations.since(request.query)
  )
}
