import { createServer, type Http2Server, type Http2Session } from 'node:http2'
import { Code, ConnectError, type ConnectRouter } from '@connectrpc/connect'
import { connectNodeAdapter } from '@connectrpc/connect-node'
import type { Logger } from 'pino'

/** Requests and replies larger than this are refused (RESOURCE_EXHAUSTED). */
export const MAX_MESSAGE_BYTES = 1024 * 1024

export interface GrpcServerOptions {
  routes: (router: ConnectRouter) => void
  logger: Logger
  /** Runs before every call (authentication, for example). */
  interceptors?: Parameters<typeof connectNodeAdapter>[0]['interceptors']
  contextValues?: Parameters<typeof connectNodeAdapter>[0]['contextValues']
}

const liveSessions = new WeakMap<Http2Server, Set<Http2Session>>()

/**
 * A gRPC port: HTTP/2 without TLS (h2c) inside the cluster, serving gRPC, gRPC-Web and
 * Connect from one handler, with message size limits. Unexpected errors are logged here and
 * reach clients as INTERNAL without their message.
 */
export function createGrpcServer(options: GrpcServerOptions): Http2Server {
  const handler = connectNodeAdapter({
    routes: options.routes,
    grpc: true,
    grpcWeb: true,
    connect: true,
    readMaxBytes: MAX_MESSAGE_BYTES,
    writeMaxBytes: MAX_MESSAGE_BYTES,
    ...(options.contextValues === undefined ? {} : { contextValues: options.contextValues }),
    interceptors: [
      (next) => async (request) => {
        try {
          return await next(request)
        } catch (error) {
          if (error instanceof ConnectError) throw error
          options.logger.error({ err: error, procedure: request.method.name }, 'gRPC call failed')
          throw new ConnectError('internal error', Code.Internal)
        }
      },
      ...(options.interceptors ?? [])
    ]
  })
  const server = createServer(handler)
  const sessions = new Set<Http2Session>()
  server.on('session', (session) => {
    sessions.add(session)
    session.once('close', () => sessions.delete(session))
  })
  liveSessions.set(server, sessions)
  return server
}

/**
 * Stops taking calls and lets those in flight finish: GOAWAY to every client (gRPC clients
 * keep one HTTP/2 session open for good, so server.close() alone would wait for them
 * forever), then sessions that linger past the grace period are cut.
 */
export async function closeGrpcServer(server: Http2Server, graceMs = 10_000): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()))
  const sessions = liveSessions.get(server) ?? new Set()
  for (const session of sessions) session.close()
  const timer = setTimeout(() => {
    for (const session of sessions) session.destroy()
  }, graceMs)
  await closed
  clearTimeout(timer)
}
