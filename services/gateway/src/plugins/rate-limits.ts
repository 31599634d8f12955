import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance, onRequestAsyncHookHandler } from 'fastify'
import { errors } from '../errors.js'
import type { RateLimitCheck } from '../graphql/context.js'

/** Probes and scrapes are not clients: never limited. */
const UNLIMITED = new Set(['/healthz', '/readyz', '/metrics'])

export interface RateLimits {
  /** Register, login and refresh, over REST and GraphQL together. */
  auth: RateLimitCheck
  /** Placing orders, over REST and GraphQL together. */
  orders: RateLimitCheck
  /** An onRequest hook enforcing a check. */
  hook: (check: RateLimitCheck) => onRequestAsyncHookHandler
}

/**
 * @fastify/rate-limit (https://github.com/fastify/fastify-rate-limit): a global limit per client IP
 * on every route, and tighter named limits shared by the REST routes and the GraphQL mutations
 * that do the same thing, so neither door is a way around the other. Counters live in this
 * process: with N gateway replicas a client gets up to N times the limit (a Redis store would
 * make it exact).
 */
export async function rateLimits(
  app: FastifyInstance,
  limits: { perMinute: number; authPerMinute: number; ordersPerMinute: number }
): Promise<RateLimits> {
  await app.register(rateLimit, {
    global: true,
    max: limits.perMinute,
    timeWindow: '1 minute',
    allowList: (request) => UNLIMITED.has(request.url),
    errorResponseBuilder: (_request, context) =>
      errors.RATE_LIMITED(`Too many requests; retry in ${Math.ceil(context.ttl / 1000)} s.`, { retryAfter: Math.ceil(context.ttl / 1000) })
  })
  const auth = app.createRateLimit({ max: limits.authPerMinute, timeWindow: '1 minute' }) as RateLimitCheck
  const orders = app.createRateLimit({ max: limits.ordersPerMinute, timeWindow: '1 minute' }) as RateLimitCheck
  return {
    auth,
    orders,
    hook: (check) => async (request, reply) => {
      const result = await check(request)
      if (result.isExceeded === true) {
        const retryAfter = result.ttlInSeconds ?? 60
        reply.header('retry-after', String(retryAfter))
        throw errors.RATE_LIMITED(`Too many attempts; retry in ${retryAfter} s.`, { retryAfter })
      }
    }
  }
}
