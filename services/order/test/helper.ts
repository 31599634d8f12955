import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { type Client, createClient } from '@connectrpc/connect'
import { createGrpcTransport } from '@connectrpc/connect-node'
import { loadConfig } from '@polyshop/config'
import { closeGrpcServer, serviceTokenInterceptor } from '@polyshop/grpc'
import { InventoryService, OrderService } from '@polyshop/proto'
import { testDatabase, testLogger, testTokens } from '@polyshop/testkit'
import type { Db } from 'mongodb'
import type { Test } from 'tap'
// The real product service, in-process, so orders meet real stock reservations over gRPC.
import { buildProductService, type ProductService } from '../../product/src/app.js'
import { ProductConfigSchema } from '../../product/src/config.js'
import { seedDemoCatalog } from '../../product/src/seed/seed.js'
import { buildOrderService, type OrderServiceParts } from '../src/app.js'
import { OrderConfigSchema } from '../src/config.js'

async function serve(t: Test, server: OrderServiceParts['grpc']): Promise<string> {
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => closeGrpcServer(server, 1000))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

export interface Stack {
  db: Db
  product: ProductService
  order: OrderServiceParts
  orderUrl: string
  /** An OrderService client acting as the user with that token. */
  clientFor: (token: string) => Client<typeof OrderService>
  tokens: ReturnType<typeof testTokens>
  /** The product service's InventoryService, as the order service calls it. */
  inventory: Client<typeof InventoryService>
}

export async function build(t: Test): Promise<Stack> {
  const tokens = testTokens()
  const logger = testLogger().logger
  const productDb = (await testDatabase(t, 'product')).db
  const product = await buildProductService({
    config: loadConfig(ProductConfigSchema, { MONGODB_URL: process.env.MONGODB_URL }),
    db: productDb,
    logger,
    resolveKey: tokens.resolveKey
  })
  t.teardown(() => product.app.close())
  await seedDemoCatalog(product.products, product.catalog, 'EUR')
  const inventoryUrl = await serve(t, product.grpc)

  const { db } = await testDatabase(t, 'order')
  const config = loadConfig(OrderConfigSchema, {
    MONGODB_URL: process.env.MONGODB_URL,
    KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
    DOWNSTREAM_TIMEOUT_MS: '60000',
    SERVICE_CLIENT_SECRET: 'not-used-the-test-signs-its-own-token'
  })
  const inventory = createClient(
    InventoryService,
    createGrpcTransport({ baseUrl: inventoryUrl, interceptors: [serviceTokenInterceptor(tokens.serviceTokens('order'))] })
  )
  const order = await buildOrderService({ config, db, logger, resolveKey: tokens.resolveKey, inventory })
  t.teardown(() => order.http.close())
  const orderUrl = await serve(t, order.grpc)
  const transport = createGrpcTransport({ baseUrl: orderUrl })
  return {
    db,
    product,
    order,
    inventory,
    orderUrl,
    tokens,
    clientFor: (token) =>
      createClient(OrderService, {
        ...transport,
        unary: (method, signal, timeoutMs, header, input, contextValues) => {
          const withAuth = new Headers(header)
          withAuth.set('authorization', `Bearer ${token}`)
          return transport.unary(method, signal, timeoutMs ?? 120_000, withAuth, input, contextValues)
        }
      })
  }
}

export const address = { name: 'Ada Lovelace', line1: '12 Analytical Row', city: 'London', postalCode: 'N1 9GU', country: 'GB' }
