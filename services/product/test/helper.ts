import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { loadConfig } from '@polyshop/config'
import { closeGrpcServer, serviceTokenInterceptor } from '@polyshop/grpc'
import { testDatabase, testLogger, testTokens } from '@polyshop/testkit'
import type { Db } from 'mongodb'
import type { Test } from 'tap'
import { buildProductService, type ProductService } from '../src/app.js'
import { ProductConfigSchema } from '../src/config.js'
import { seedDemoCatalog } from '../src/seed/seed.js'

const tokens = testTokens()

export function tokenFor(roles: string[]): string {
  return tokens.token(roles)
}

/** A service token, as the user service gives one to that service. */
export function serviceTokenFor(name: string): string {
  return tokens.serviceToken(name)
}

/** Interceptors of a gRPC client acting as the order service (the one InventoryService caller). */
export const asOrderService = () => [serviceTokenInterceptor(tokens.serviceTokens('order'))]

export const adminHeaders = () => ({ authorization: `Bearer ${tokenFor(['admin', 'customer'])}` })
export const customerHeaders = () => ({ authorization: `Bearer ${tokenFor(['customer'])}` })

/**
 * The product service on a fresh database of the real MongoDB-wire server, seeded unless asked
 * not to; with `db`, another replica on that database.
 */
export async function build(t: Test, options: { seed?: boolean; db?: Db } = {}): Promise<ProductService> {
  const db = options.db ?? (await testDatabase(t, 'product')).db
  const config = loadConfig(ProductConfigSchema, { MONGODB_URL: process.env.MONGODB_URL })
  const service = await buildProductService({
    config,
    db,
    logger: testLogger().logger,
    resolveKey: tokens.resolveKey
  })
  t.teardown(() => service.app.close())
  if (options.seed !== false && options.db === undefined) await seedDemoCatalog(service.products, service.catalog, config.CATALOG_CURRENCY)
  return service
}

/** Starts the gRPC port on a free loopback port; returns its base URL. */
export async function listenGrpc(t: Test, service: ProductService): Promise<string> {
  service.grpc.listen(0, '127.0.0.1')
  await once(service.grpc, 'listening')
  t.teardown(() => closeGrpcServer(service.grpc, 1000))
  return `http://127.0.0.1:${(service.grpc.address() as AddressInfo).port}`
}
