import { type Identity, InvalidTokenError, KeysUnavailableError } from '@polyshop/auth'
import type { ForwardedHeaders } from '@polyshop/downstream'
import type { FastifyRequest } from 'fastify'
import { errors } from '../errors.js'

/** Who asks, from the request: the access token the gateway forwarded, and the headers to pass on. */
export class Caller {
  readonly forwarded: ForwardedHeaders
  readonly #authorization: string | undefined
  readonly #verify: (token: string) => Promise<Identity>

  constructor(request: FastifyRequest, verify: (token: string) => Promise<Identity>) {
    this.#authorization = request.headers.authorization
    this.#verify = verify
    this.forwarded = {
      'x-request-id': String(request.id),
      ...(typeof request.headers.traceparent === 'string' ? { traceparent: request.headers.traceparent } : {})
    }
  }

  /** A user's recommendations reveal what they bought: only they (or an admin) may ask. */
  async requireSelfOrAdmin(userId: string): Promise<Identity> {
    const token = this.#authorization?.startsWith('Bearer ') === true ? this.#authorization.slice('Bearer '.length).trim() : ''
    if (token === '') throw errors.UNAUTHENTICATED('Sign in to see recommendations for a user.')
    let identity: Identity
    try {
      identity = await this.#verify(token)
    } catch (error) {
      if (error instanceof KeysUnavailableError) throw errors.KEYS_UNAVAILABLE('Access tokens cannot be checked right now; retry shortly.')
      if (error instanceof InvalidTokenError) throw errors.UNAUTHENTICATED(`The access token was refused: ${error.message}.`)
      throw error
    }
    if (identity.userId !== userId && !identity.roles.includes('admin')) {
      throw errors.FORBIDDEN('Recommendations are shown only to the user they are for.')
    }
    return identity
  }
}
