import { generateKeyPairSync, randomUUID } from 'node:crypto'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { toPublicJwk } from '@polyshop/auth'
import { loadConfig } from '@polyshop/config'
import { testDatabase, testLogger } from '@polyshop/testkit'
import { createSigner } from 'fast-jwt'
import type { Test } from 'tap'
import { buildProductService, type ProductService } from '../src/app.js'
import { ProductConfigSchema } from '../src/config.js'
import { closeInventoryServer } from '../src/grpc/server.js'
import { seedDemoCatalog } from '../src/seed/seed.js'

/** Stands in for the user service's signing key: tokens the product service must accept. */
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const jwk = toPublicJwk(privateKey)
const sign = createSigner({
  key: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  algorithm: 'ES256',
  kid: jwk.kid,
  iss: 'polyshop-user',
  aud: 'polyshop',
  expiresIn: 600_000
})

export function tokenFor(roles: string[]): string {
  return sign({ sub: randomUUID(), roles, jti: randomUUID() })
}

export const adminHeaders = () => ({ authorization: `Bearer ${tokenFor(['admin', 'customer'])}` })
export const customerHeaders = () => ({ authorization: `Bearer ${tokenFor(['customer'])}` })

/** The product service on a fresh database of the real MongoDB-wire server, seeded unless asked not to. */
export async function build(t: Test, options: { seed?: boolean } = {}): Promise<ProductService> {
  const { db } = await testDatabase(t, 'product')
  const config = loadConfig(ProductConfigSchema, { MONGODB_URL: process.env.MONGODB_URL })
  const service = await buildProductService({
    config,
    db,
    logger: testLogger().logger,
    resolveKey: async (kid) => (kid === jwk.kid ? publicKey.export({ format: 'pem', type: 'spki' }).toString() : undefined)
  })
  t.teardown(() => service.app.close())
  if (options.seed !== false) await seedDemoCatalog(service.products, service.catalog, config.CATALOG_CURRENCY)
  return service
}

/** Starts the gRPC port on a free loopback port; returns its base URL. */
export async function listenGrpc(t: Test, service: ProductService): Promise<string> {
  service.grpc.listen(0, '127.0.0.1')
  await once(service.grpc, 'listening')
  t.teardown(() => closeInventoryServer(service.grpc, 1000))
  return `http://127.0.0.1:${(service.grpc.address() as AddressInfo).port}`
}
