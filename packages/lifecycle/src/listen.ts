import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { FastifyInstance } from 'fastify'
import type { GracefulShutdown } from './shutdown.js'

/**
 * Server timeouts for every polyshop HTTP server (pass to Fastify()): slow clients cannot
 * hold sockets forever, and keep-alive outlives a load balancer's idle timeout (60 s on most
 * clouds) so it never sends to a socket we just closed.
 */
export const HTTP_SERVER_TIMEOUTS = {
  connectionTimeout: 10_000,
  keepAliveTimeout: 65_000,
  requestTimeout: 30_000,
  /** On close, drop idle keep-alive sockets at once and let in-flight requests finish. */
  forceCloseConnections: 'idle' as const
}

/** A request id a client may choose: short and plain, so it cannot forge log lines. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

/**
 * The request id of every log line: the `x-request-id` the gateway (or a client) sent, so one
 * request can be followed across services, or a new UUID.
 */
export function requestId(request: IncomingMessage): string {
  const given = request.headers['x-request-id']
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID()
}

/**
 * Fastify options every polyshop HTTP service starts from (pair with useStrictValidation).
 */
export const SERVICE_FASTIFY_OPTIONS = {
  ...HTTP_SERVER_TIMEOUTS,
  return503OnClosing: true,
  genReqId: requestId
}

export interface ListenOptions {
  host: string
  port: number
  shutdown: GracefulShutdown
}

/**
 * Listens, and makes closing the server the first step of shutdown. Responses that finish
 * during shutdown carry `Connection: close`, so keep-alive clients let go of their sockets
 * and the server's close does not wait for their idle timeout.
 */
export async function listen(app: FastifyInstance, options: ListenOptions): Promise<string> {
  app.addHook('onSend', async (request, reply) => {
    if (options.shutdown.shuttingDown && request.raw.httpVersionMajor < 2) reply.header('connection', 'close')
  })
  // First, whatever was registered before: requests in flight still need the database.
  options.shutdown.add({ name: 'http server', close: () => app.close() }, { first: true })
  return await app.listen({ host: options.host, port: options.port })
}
