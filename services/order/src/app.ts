import type { Http2Server } from 'node:http2'
import type { Client } from '@connectrpc/connect'
import { createAccessTokenVerifier, type PublicKeyResolver, type RevocationList } from '@polyshop/auth'
import { createGrpcServer, healthService } from '@polyshop/grpc'
import { healthRoutes, mongoPing, SERVICE_FASTIFY_OPTIONS } from '@polyshop/lifecycle'
import { metrics } from '@polyshop/metrics'
import { OutboxWriter } from '@polyshop/outbox'
import { problemHandling } from '@polyshop/problem'
import { Health, type InventoryService, OrderService } from '@polyshop/proto'
import Fastify, { type FastifyInstance } from 'fastify'
import type { Db } from 'mongodb'
import type { Logger } from 'pino'
import type { OrderConfig } from './config.js'
import type { OrderDocument } from './domain/order-document.js'
import { Orders } from './domain/orders.js'
import { authenticationInterceptor } from './grpc/authentication.js'
import { orderService } from './grpc/order-service.js'

export interface OrderServiceOptions {
  config: OrderConfig
  db: Db
  logger: Logger
  resolveKey: PublicKeyResolver
  /** Ended sessions and disabled accounts (the user service's feed): their tokens are refused. */
  revocations?: RevocationList
  inventory: Client<typeof InventoryService>
  onOutboxCommit?: () => void
  isShuttingDown?: () => boolean
}

export interface OrderServiceParts {
  /** gRPC: OrderService and Health. Not listening yet. */
  grpc: Http2Server
  /** HTTP: /healthz, /readyz, /metrics. Never listens by itself. */
  http: FastifyInstance
  orders: Orders
}

export async function buildOrderService(options: OrderServiceOptions): Promise<OrderServiceParts> {
  const { config, db, logger } = options
  const isShuttingDown = options.isShuttingDown ?? (() => false)
  const outbox = new OutboxWriter<OrderDocument>({
    db,
    collection: 'orders',
    logger,
    ...(options.onOutboxCommit === undefined ? {} : { onCommit: options.onOutboxCommit })
  })
  const orders = new Orders({
    db,
    outbox,
    inventory: options.inventory,
    downstreamTimeoutMs: config.DOWNSTREAM_TIMEOUT_MS,
    logger,
    unpaidTtlMs: config.UNPAID_ORDER_TTL_SECONDS * 1000,
    maxUnpaidOrders: config.MAX_UNPAID_ORDERS,
    maxHeldUnits: config.MAX_HELD_UNITS
  })
  await orders.ensureIndexes()

  const verify = createAccessTokenVerifier({
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    resolveKey: options.resolveKey,
    ...(options.revocations === undefined ? {} : { revocations: options.revocations })
  })
  const grpc = createGrpcServer({
    logger,
    interceptors: [authenticationInterceptor(verify)],
    routes: (router) => {
      router.service(OrderService, orderService(orders))
      router.service(
        Health,
        healthService([OrderService.typeName], async () => !isShuttingDown() && (await mongoPing(db)().catch(() => false)))
      )
    }
  })

  const http = Fastify({ ...SERVICE_FASTIFY_OPTIONS, loggerInstance: logger })
  await http.register(problemHandling, { prefix: 'ORD' })
  await http.register(metrics, { service: 'order' })
  await http.register(healthRoutes, { checks: { mongodb: mongoPing(db) }, isShuttingDown })
  return { grpc, http: http as unknown as FastifyInstance, orders }
}
