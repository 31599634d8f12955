import replyFrom from '@fastify/reply-from'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { errors } from '../errors.js'

export interface ForwardOptions {
  /** e.g. http://user:3001 */
  baseUrl: string
  /** Named in problems: "the user service is unavailable". */
  service: string
  timeoutMs: number
}

/**
 * Registers @fastify/reply-from (https://github.com/fastify/fastify-reply-from) for one service in
 * the current (encapsulated) context, over an undici pool of kept-alive connections, and returns
 * the route handler that forwards a request to the same path there. The service's answer streams
 * back as it is (its problems included); a service that is down gives 503 and one past the
 * deadline 504, as problem+json, at once rather than a hang.
 */
export async function forwardTo(app: FastifyInstance, options: ForwardOptions) {
  await app.register(replyFrom, {
    base: options.baseUrl,
    undici: {
      connections: 128,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      connect: { timeout: Math.min(options.timeoutMs, 2000) },
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs
    }
  })

  // A handler that returns nothing: reply.from sends the answer itself.
  return (request: FastifyRequest, reply: FastifyReply): void => {
    reply.from(request.url, {
      rewriteRequestHeaders: (original, headers) => ({
        ...headers,
        'x-request-id': String(original.id),
        'x-forwarded-for': original.ip
      }),
      onError: (failed, { error }) => {
        const timedOut = (error as { statusCode?: number }).statusCode === 504
        failed.send(
          timedOut
            ? errors.UPSTREAM_TIMEOUT(`The ${options.service} service did not answer in time; retry shortly.`, {}, { cause: error })
            : errors.UPSTREAM_UNAVAILABLE(`The ${options.service} service is unavailable; retry shortly.`, {}, { cause: error })
        )
      }
    })
  }
}
