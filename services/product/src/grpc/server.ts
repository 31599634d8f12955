import { createServer, type Http2Server, type Http2Session } from 'node:http2'
import { Code, ConnectError, type ConnectRouter } from '@connectrpc/connect'
import { connectNodeAdapter } from '@connectrpc/connect-node'
import { Health, InventoryService } from '@polyshop/proto'
import type { Logger } from 'pino'
import type { Inventory } from '../domain/inventory.js'
import { healthService } from './health-service.js'
import { inventoryService } from './inventory-service.js'

export interface InventoryServerOptions {
  inventory: Inventory
  logger: Logger
  isServing: () => Promise<boolean>
}

/** Requests larger than this are refused (RESOURCE_EXHAUSTED): GetProducts of 200 ids fits easily. */
const MAX_MESSAGE_BYTES = 1024 * 1024

export function inventoryRoutes(options: InventoryServerOptions) {
  return (router: ConnectRouter) => {
    router.service(InventoryService, inventoryService(options.inventory))
    router.service(Health, healthService([InventoryService.typeName], options.isServing))
  }
}

/**
 * The gRPC port: HTTP/2 without TLS (h2c) inside the cluster, serving gRPC, gRPC-Web and
 * Connect from one handler. Unexpected errors are logged here and reach clients as INTERNAL
 * without their message.
 */
export function createInventoryServer(options: InventoryServerOptions): Http2Server {
  const handler = connectNodeAdapter({
    routes: inventoryRoutes(options),
    grpc: true,
    grpcWeb: true,
    connect: true,
    readMaxBytes: MAX_MESSAGE_BYTES,
    writeMaxBytes: MAX_MESSAGE_BYTES,
    interceptors: [
      (next) => async (request) => {
        try {
          return await next(request)
        } catch (error) {
          if (error instanceof ConnectError) throw error
          options.logger.error({ err: error, procedure: request.method.name }, 'gRPC call failed')
          throw new ConnectError('internal error', Code.Internal)
        }
      }
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

const liveSessions = new WeakMap<Http2Server, Set<Http2Session>>()

/**
 * Stops taking calls and lets those in flight finish: GOAWAY to every client (gRPC clients
 * such as the order service keep one HTTP/2 session open for good, so server.close() alone
 * would wait for them forever), then sessions that linger past the grace period are cut.
 */
export async function closeInventoryServer(server: Http2Server, graceMs = 10_000): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()))
  const sessions = liveSessions.get(server) ?? new Set()
  for (const session of sessions) session.close()
  const timer = setTimeout(() => {
    for (const session of sessions) session.destroy()
  }, graceMs)
  await closed
  clearTimeout(timer)
}
