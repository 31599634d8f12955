import { type Identity, InvalidTokenError, KeysUnavailableError } from '@polyshop/auth'
import type { ForwardedHeaders } from '@polyshop/downstream'
import type { FastifyRequest } from 'fastify'
import { errors } from '../errors.js'
import { forwardedHeaders } from '../request-context.js'

/** Checks one rate limit for a request (from @fastify/rate-limit's createRateLimit). */
export type RateLimitCheck = (request: FastifyRequest) => Promise<{ isExceeded?: boolean; ttlInSeconds?: number }>

/** Per request: who is asking (the access token, verified once, when a resolver first needs it) and what to pass on. */
export class GraphqlRequest {
  readonly forwarded: ForwardedHeaders
  readonly #request: FastifyRequest
  readonly #verify: (token: string) => Promise<Identity>
  #identity: Promise<Identity | undefined> | undefined

  constructor(request: FastifyRequest, verify: (token: string) => Promise<Identity>) {
    this.#request = request
    this.#verify = verify
    this.forwarded = forwardedHeaders(request)
  }

  /** The caller, or undefined for a guest; a token that is sent but refused is an error, never a silent guest. */
  optionalIdentity(): Promise<Identity | undefined> {
    this.#identity ??= this.#resolve()
    return this.#identity
  }

  async identity(): Promise<Identity> {
    const identity = await this.optionalIdentity()
    if (identity === undefined) throw errors.UNAUTHENTICATED('Sign in: this needs a bearer access token.')
    return identity
  }

  async checkRateLimit(check: RateLimitCheck): Promise<void> {
    const result = await check(this.#request)
    if (result.isExceeded === true) {
      throw errors.RATE_LIMITED(`Too many attempts; retry in ${result.ttlInSeconds ?? 60} s.`, { retryAfter: result.ttlInSeconds ?? 60 })
    }
  }

  async #resolve(): Promise<Identity | undefined> {
    const header = this.#request.headers.authorization
    if (header === undefined) return undefined
    const token = header.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : ''
    if (token === '') throw errors.UNAUTHENTICATED('The authorization header must be "Bearer <access token>".')
    try {
      return await this.#verify(token)
    } catch (error) {
      if (error instanceof KeysUnavailableError) {
        throw errors.KEYS_UNAVAILABLE('Access tokens cannot be checked right now; retry shortly.')
      }
      if (error instanceof InvalidTokenError) throw errors.UNAUTHENTICATED(`The access token was refused: ${error.message}.`)
      throw error
    }
  }
}
