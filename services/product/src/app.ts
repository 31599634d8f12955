import type { Http2Server } from 'node:http2'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { authentication, createAccessTokenVerifier, type PublicKeyResolver, type RevocationList } from '@polyshop/auth'
import { healthRoutes, mongoPing, SERVICE_FASTIFY_OPTIONS, useStrictValidation } from '@polyshop/lifecycle'
import { metrics } from '@polyshop/metrics'
import { problemHandling } from '@polyshop/problem'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { Db } from 'mongodb'
import type { Logger } from 'pino'
import type { ProductConfig } from './config.js'
import { Catalog } from './domain/catalog.js'
import { Inventory } from './domain/inventory.js'
import { createInventoryServer } from './grpc/server.js'
import { ProductRepository } from './repositories/products.js'
import { catalogRoutes } from './routes/catalog.js'

export interface ProductServiceOptions {
  config: ProductConfig
  db: Db
  logger: Logger
  /** Where access-token keys come from: the user service's JWKS in production. */
  resolveKey: PublicKeyResolver
  /** Ended sessions and disabled accounts (the user service's feed): their tokens are refused. */
  revocations?: RevocationList
  isShuttingDown?: () => boolean
}

export interface ProductService {
  /** REST: the catalog and its admin API. Never listens by itself. */
  app: FastifyInstance
  /** gRPC (HTTP/2): InventoryService and Health. Not listening yet. */
  grpc: Http2Server
  products: ProductRepository
  catalog: Catalog
  inventory: Inventory
}

export async function buildProductService(options: ProductServiceOptions, server: FastifyServerOptions = {}): Promise<ProductService> {
  const { config, db, logger } = options
  const isShuttingDown = options.isShuttingDown ?? (() => false)
  const products = new ProductRepository(db)
  await products.ensureIndexes()
  const inventory = new Inventory(db, products, logger)
  const catalog = new Catalog(products, inventory, config.CATALOG_CURRENCY)

  const app = Fastify({
    ...SERVICE_FASTIFY_OPTIONS,
    loggerInstance: logger,
    bodyLimit: 64 * 1024,
    ...server
  }).withTypeProvider<TypeBoxTypeProvider>()
  useStrictValidation(app as unknown as FastifyInstance)
  await app.register(problemHandling, { prefix: 'PRD' })
  await app.register(metrics, { service: 'product' })
  await app.register(authentication, {
    prefix: 'PRD',
    verify: createAccessTokenVerifier({
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      resolveKey: options.resolveKey,
      ...(options.revocations === undefined ? {} : { revocations: options.revocations })
    })
  })
  await app.register(healthRoutes, { checks: { mongodb: mongoPing(db) }, isShuttingDown })
  await app.register(catalogRoutes, { catalog, products })

  const grpc = createInventoryServer({
    inventory,
    logger,
    // Reservations move stock: only the services named in INVENTORY_CALLERS, by their service tokens.
    verifyCaller: createAccessTokenVerifier({
      issuer: config.JWT_ISSUER,
      audience: config.SERVICE_TOKEN_AUDIENCE,
      resolveKey: options.resolveKey,
      cacheSize: 64
    }),
    callers: config.INVENTORY_CALLERS.split(','),
    isServing: async () => !isShuttingDown() && (await mongoPing(db)().catch(() => false))
  })
  return { app: app as unknown as FastifyInstance, grpc, products, catalog, inventory }
}
