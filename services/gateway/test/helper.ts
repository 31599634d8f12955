import { create } from '@bufbuild/protobuf'
import { timestampFromDate } from '@bufbuild/protobuf/wkt'
import { createRouterTransport, type ServiceImpl } from '@connectrpc/connect'
import type { RevocationList } from '@polyshop/auth'
import { loadConfig } from '@polyshop/config'
import { type Order, OrderSchema, OrderService, OrderStatus } from '@polyshop/proto'
import { testLogger, testTokens } from '@polyshop/testkit'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import { buildGateway, type Gateway } from '../src/app.js'
import { GatewayConfigSchema } from '../src/config.js'

interface Teardown {
  teardown(fn: () => unknown): void
}

export interface Upstream {
  app: FastifyInstance
  url: string
  /** Every request it received. */
  seen: FastifyRequest[]
}

/** A stand-in service on a real port (the gateway's HTTP client and proxy are what is tested). */
export async function upstream(t: Teardown, routes: (app: FastifyInstance) => void): Promise<Upstream> {
  const app = Fastify({ logger: false })
  const seen: FastifyRequest[] = []
  app.addHook('onRequest', async (request) => {
    seen.push(request)
  })
  app.get('/healthz', async () => ({ status: 'ok' }))
  routes(app)
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  return { app, url, seen }
}

export function sampleOrder(overrides: { id?: string; status?: OrderStatus } = {}): Order {
  return create(OrderSchema, {
    id: 'o-1',
    userId: 'u-1',
    status: OrderStatus.CONFIRMED,
    items: [{ productId: 'tea', name: 'Tea', quantity: 2, unitPrice: { amount: 1999n, currency: 'EUR' } }],
    total: { amount: 3998n, currency: 'EUR' },
    shippingAddress: { name: 'Ann', line1: 'Main 1', city: 'Berlin', postalCode: '10115', country: 'DE' },
    createdAt: timestampFromDate(new Date('2026-11-29T10:00:00Z')),
    updatedAt: timestampFromDate(new Date('2026-11-29T10:00:01Z')),
    ...overrides
  })
}

export interface GatewayUnderTest {
  app: FastifyInstance
  /** The management port's app: /metrics, /healthz, /readyz. */
  management: FastifyInstance
  tokens: ReturnType<typeof testTokens>
  user: Upstream
  product: Upstream
  recommendation: Upstream
  /** Metadata of every OrderService call. */
  orderCalls: Array<{ method: string; headers: Headers; request: unknown }>
  /** Where a test publishes order updates (Kafka's part in production). */
  orderUpdates: Gateway['orderUpdates']
  liveConnections: Gateway['liveConnections']
}

/**
 * The gateway with stand-ins behind it: user, product and recommendation as HTTP servers on real
 * ports, the order service as an in-memory gRPC router (`orders` implements what a test needs).
 */
export async function build(
  t: Teardown,
  options: {
    orders?: Partial<ServiceImpl<typeof OrderService>>
    user?: (app: FastifyInstance) => void
    product?: (app: FastifyInstance) => void
    recommendation?: (app: FastifyInstance) => void
    env?: Record<string, string>
    revocations?: RevocationList
  } = {}
): Promise<GatewayUnderTest> {
  const user = await upstream(t, options.user ?? (() => {}))
  const product = await upstream(t, options.product ?? (() => {}))
  const recommendation = await upstream(t, options.recommendation ?? (() => {}))
  const tokens = testTokens()
  const orderCalls: GatewayUnderTest['orderCalls'] = []
  const orderTransport = createRouterTransport(({ service }) => {
    const implementation = options.orders ?? {}
    const recorded = Object.fromEntries(
      Object.entries(implementation).map(([method, handler]) => [
        method,
        (request: unknown, context: { requestHeader: Headers }) => {
          orderCalls.push({ method, headers: context.requestHeader, request })
          return (handler as (request: unknown, context: unknown) => unknown)(request, context)
        }
      ])
    )
    service(OrderService, recorded as unknown as ServiceImpl<typeof OrderService>)
  })
  const config = loadConfig(GatewayConfigSchema, {
    USER_SERVICE_URL: user.url,
    PRODUCT_SERVICE_URL: product.url,
    RECOMMENDATION_URL: `${recommendation.url}/graphql`,
    DOWNSTREAM_TIMEOUT_MS: '500',
    // Not connected to here: tests publish to the gateway's order-update hub themselves.
    KAFKA_BROKERS: '127.0.0.1:9',
    ...options.env
  })
  const gateway = await buildGateway({
    config,
    logger: testLogger().logger,
    resolveKey: tokens.resolveKey,
    orderTransport,
    ...(options.revocations === undefined ? {} : { revocations: options.revocations })
  })
  t.teardown(async () => {
    await gateway.app.close()
    await gateway.management.close()
    await gateway.close()
  })
  await gateway.app.ready()
  return {
    app: gateway.app,
    management: gateway.management,
    tokens,
    user,
    product,
    recommendation,
    orderCalls,
    orderUpdates: gateway.orderUpdates,
    liveConnections: gateway.liveConnections
  }
}
