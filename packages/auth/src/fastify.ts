import { ProblemError } from '@polyshop/problem'
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import { type Identity, InvalidTokenError, KeysUnavailableError } from './verifier.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the `authenticate` hook: the verified caller. */
    identity: Identity | null
  }
  interface FastifyInstance {
    /** onRequest hook: 401 unless the request carries a valid access token. */
    authenticate: onRequestAsyncHookHandler
    /** onRequest hook for open routes: a guest passes; a token that is sent must be valid (401 otherwise). */
    identify: onRequestAsyncHookHandler
    /** onRequest hook: authenticate, then 403 unless the caller has the role. */
    requireRole: (role: string) => onRequestAsyncHookHandler
  }
}

export interface AuthenticationOptions {
  verify: (token: string) => Promise<Identity>
  /** The service's problem-code prefix (USR, PRD …). */
  prefix: string
}

const UNAUTHORIZED = { status: 401, title: 'Unauthorized' }
const FORBIDDEN = { status: 403, title: 'Forbidden' }
const KEYS_UNAVAILABLE = { status: 503, title: 'Service Unavailable' }

/** Bearer-token authentication for routes that opt in with `onRequest: app.authenticate` (before body validation, so strangers learn nothing about the API). */
export const authentication = fp<AuthenticationOptions>(
  async (app: FastifyInstance, options) => {
    app.decorateRequest('identity', null)

    // Refusals are ProblemErrors: the service's own problem handler renders them like any other.
    const unauthenticated = (reply: FastifyReply, detail: string) => {
      reply.header('www-authenticate', 'Bearer error="invalid_token"')
      return new ProblemError(`${options.prefix}_UNAUTHENTICATED`, UNAUTHORIZED, detail)
    }

    const authenticate = async (request: FastifyRequest, reply: FastifyReply) => {
      const header = request.headers.authorization
      const token = header?.startsWith('Bearer ') === true ? header.slice('Bearer '.length).trim() : ''
      if (token === '') throw unauthenticated(reply, 'Sign in: this needs a bearer access token.')
      try {
        request.identity = await options.verify(token)
      } catch (error) {
        if (error instanceof KeysUnavailableError) {
          throw new ProblemError(
            `${options.prefix}_KEYS_UNAVAILABLE`,
            KEYS_UNAVAILABLE,
            'Access tokens cannot be checked right now; retry shortly.',
            {},
            { cause: error }
          )
        }
        if (!(error instanceof InvalidTokenError)) throw error
        throw unauthenticated(reply, `The access token was refused: ${error.message}.`)
      }
    }

    app.decorate('authenticate', authenticate)
    app.decorate('identify', async (request: FastifyRequest, reply: FastifyReply) => {
      if (request.headers.authorization !== undefined) await authenticate(request, reply)
    })
    app.decorate('requireRole', (role: string) => async (request: FastifyRequest, reply: FastifyReply) => {
      await authenticate(request, reply)
      if (!request.identity?.roles.includes(role)) {
        throw new ProblemError(`${options.prefix}_FORBIDDEN`, FORBIDDEN, `This needs the ${role} role.`)
      }
    })
  },
  { name: '@polyshop/auth', fastify: '5.x' }
)
