import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import { type Identity, InvalidTokenError, KeysUnavailableError } from './verifier.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the `authenticate` hook: the verified caller. */
    identity: Identity | null
  }
  interface FastifyInstance {
    /** preHandler: 401 unless the request carries a valid access token. */
    authenticate: preHandlerAsyncHookHandler
    /** preHandler: authenticate, then 403 unless the caller has the role. */
    requireRole: (role: string) => preHandlerAsyncHookHandler
  }
}

export interface AuthenticationOptions {
  verify: (token: string) => Promise<Identity>
  /** The service's problem-code prefix (USR, PRD …). */
  prefix: string
}

function problem(reply: FastifyReply, status: 401 | 403, code: string, title: string, detail: string, instance: string) {
  if (status === 401) reply.header('www-authenticate', 'Bearer error="invalid_token"')
  return reply
    .code(status)
    .type('application/problem+json')
    .send({ type: `/problems/${code.toLowerCase().replaceAll('_', '-')}`, title, status, detail, instance, code })
}

/** Bearer-token authentication for routes that opt in with `preHandler: app.authenticate`. */
export const authentication = fp<AuthenticationOptions>(
  async (app: FastifyInstance, options) => {
    app.decorateRequest('identity', null)

    const authenticate = async (request: FastifyRequest, reply: FastifyReply) => {
      const header = request.headers.authorization
      const token = header?.startsWith('Bearer ') === true ? header.slice('Bearer '.length).trim() : undefined
      if (token === undefined || token === '') {
        return problem(
          reply,
          401,
          `${options.prefix}_UNAUTHENTICATED`,
          'Unauthorized',
          'Sign in: this needs a bearer access token.',
          request.url
        )
      }
      try {
        request.identity = await options.verify(token)
      } catch (error) {
        if (error instanceof KeysUnavailableError) {
          request.log.error({ err: error }, 'cannot verify access tokens')
          return reply
            .code(503)
            .type('application/problem+json')
            .send({
              type: '/problems/keys-unavailable',
              title: 'Service Unavailable',
              status: 503,
              detail: 'Access tokens cannot be checked right now; retry shortly.',
              code: `${options.prefix}_KEYS_UNAVAILABLE`
            })
        }
        if (!(error instanceof InvalidTokenError)) throw error
        return problem(
          reply,
          401,
          `${options.prefix}_UNAUTHENTICATED`,
          'Unauthorized',
          `The access token was refused: ${error.message}.`,
          request.url
        )
      }
    }

    app.decorate('authenticate', authenticate)
    app.decorate('requireRole', (role: string) => async (request: FastifyRequest, reply: FastifyReply) => {
      await authenticate(request, reply)
      if (reply.sent) return
      if (!request.identity?.roles.includes(role)) {
        return problem(reply, 403, `${options.prefix}_FORBIDDEN`, 'Forbidden', `This needs the ${role} role.`, request.url)
      }
    })
  },
  { name: '@polyshop/auth', fastify: '5.x' }
)
