import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
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
  /** On close (after listen()'s drain), drop the keep-alive sockets still idle; in-flight requests finish. */
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
  /** The longest a stopping server drains its keep-alive connections before it closes (default 5 s). */
  drainMs?: number
  /** During the drain, a connection idle this long is closed (default 1 s). */
  drainIdleMs?: number
}

/**
 * Listens, and makes closing the server the first step of shutdown, after a drain.
 *
 * Closing a kept-alive connection that looks idle races a client already sending on it: that
 * request fails (a proxy sees a reset socket) although nothing was wrong. So a stopping server
 * first drains: it still answers, every response carries `Connection: close` (the client lets go
 * of that connection after it), connections idle for drainIdleMs are closed (a client busy
 * enough to race the close sends sooner than that), and a new connection — a proxy that has not
 * yet seen the pod leave its Service — is served the same way rather than refused. When no
 * connection is left, or after drainMs, the server closes; requests in flight finish.
 */
export async function listen(app: FastifyInstance, options: ListenOptions): Promise<string> {
  const drainMs = options.drainMs ?? 5000
  const drainIdleMs = options.drainIdleMs ?? 1000
  /** Open connections: when their last response finished, or undefined while a request is in flight. */
  const connections = new Map<Socket, number | undefined>()
  app.server.on('connection', (socket: Socket) => {
    connections.set(socket, Date.now())
    socket.once('close', () => connections.delete(socket))
  })
  app.server.on('request', (request: IncomingMessage, response: { once(event: 'close', listener: () => void): void }) => {
    const socket = request.socket
    connections.set(socket, undefined)
    response.once('close', () => {
      if (connections.has(socket)) connections.set(socket, Date.now())
    })
  })
  app.addHook('onSend', async (request, reply) => {
    if (options.shutdown.shuttingDown && request.raw.httpVersionMajor < 2) reply.header('connection', 'close')
  })
  const drain = async () => {
    const deadline = Date.now() + drainMs
    while (connections.size > 0 && Date.now() < deadline) {
      for (const [socket, idleSince] of connections) {
        if (idleSince !== undefined && Date.now() - idleSince >= drainIdleMs) socket.destroy()
      }
      await sleep(25)
    }
  }
  // First, whatever was registered before: requests in flight still need the database.
  options.shutdown.add(
    {
      name: 'http server',
      close: async () => {
        await drain()
        await app.close()
      }
    },
    { first: true }
  )
  return await app.listen({ host: options.host, port: options.port })
}
