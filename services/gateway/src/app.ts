import { fileURLToPath } from 'node:url'
import { createClient, type Transport } from '@connectrpc/connect'
import cors from '@fastify/cors'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import websocket from '@fastify/websocket'
import { authentication, createAccessTokenVerifier, type PublicKeyResolver, type RevocationList } from '@polyshop/auth'
import { ProductCatalogClient, RestClient } from '@polyshop/downstream'
import { graphqlHardeningFromConfig, publicGraphqlError } from '@polyshop/graphql'
import {
  cachedChecks,
  healthRoutes,
  SERVICE_FASTIFY_OPTIONS,
  trustProxySetting,
  useMethodNotAllowed,
  useStrictValidation
} from '@polyshop/lifecycle'
import { metrics, metricsRoute, observedGauge } from '@polyshop/metrics'
import { problemHandling } from '@polyshop/problem'
import { Health, HealthCheckResponse_ServingStatus } from '@polyshop/proto'
import Fastify, { type FastifyInstance } from 'fastify'
import mercurius from 'mercurius'
import type { Logger } from 'pino'
import { OrderClient } from './clients/order-client.js'
import { RecommendationClient } from './clients/recommendation-client.js'
import type { GatewayConfig } from './config.js'
import { GraphqlRequest } from './graphql/context.js'
import { gatewayLoaders, gatewayResolvers } from './graphql/resolvers.js'
import { typeDefs } from './graphql/schema.js'
import { LiveConnections } from './live/connections.js'
import { GRAPHQL_TRANSPORT_WS, graphqlWsHandler, subscriptionsOverWebSocketOnly, WEBSOCKET_UPGRADE } from './live/graphql-ws.js'
import { OrderUpdateHub } from './live/order-updates.js'
import { orderUpdatedSubscription } from './live/subscription.js'
import { apiDocs } from './plugins/docs.js'
import { rateLimits } from './plugins/rate-limits.js'
import { storefront } from './plugins/storefront.js'
import { orderRoutes } from './routes/orders.js'
import { productRoutes } from './routes/products.js'
import { userRoutes } from './routes/users.js'

export interface GatewayOptions {
  config: GatewayConfig
  logger: Logger
  /** The user service's JWKS in production. */
  resolveKey: PublicKeyResolver
  /** Ended sessions and disabled accounts (the user service's feed): their tokens are refused. */
  revocations?: RevocationList
  /** HTTP/2 gRPC to the order service. */
  orderTransport: Transport
  isShuttingDown?: () => boolean
}

export interface Gateway {
  /** The public port: API, GraphQL, storefront, /healthz and a cached /readyz. */
  app: FastifyInstance
  /** The management port: /metrics, /healthz, /readyz — for Prometheus and probes, never routed from outside. */
  management: FastifyInstance
  /** Where order updates (from Kafka, see OrderEventsFeed) are published to the live subscribers. */
  orderUpdates: OrderUpdateHub
  /** The open WebSocket connections of live subscribers. */
  liveConnections: LiveConnections
  close: () => Promise<void>
}

const BUNDLED_STOREFRONT = fileURLToPath(new URL('../public', import.meta.url))

export async function buildGateway(options: GatewayOptions): Promise<Gateway> {
  const { config, logger } = options
  const timeoutMs = config.DOWNSTREAM_TIMEOUT_MS
  const users = new RestClient({ baseUrl: config.USER_SERVICE_URL, service: 'user', prefix: 'GW', timeoutMs })
  const products = new RestClient({ baseUrl: config.PRODUCT_SERVICE_URL, service: 'product', prefix: 'GW', timeoutMs })
  const recommendationRest = new RestClient({ baseUrl: config.RECOMMENDATION_URL, service: 'recommendation', prefix: 'GW', timeoutMs })
  const catalog = new ProductCatalogClient(products)
  const orders = new OrderClient(options.orderTransport, timeoutMs)
  const recommendations = new RecommendationClient(recommendationRest, config.RECOMMENDATION_URL)
  const orderHealth = createClient(Health, options.orderTransport)
  const verify = createAccessTokenVerifier({
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    resolveKey: options.resolveKey,
    ...(options.revocations === undefined ? {} : { revocations: options.revocations }),
    cacheSize: config.TOKEN_CACHE_SIZE
  })

  const app = Fastify({
    ...SERVICE_FASTIFY_OPTIONS,
    loggerInstance: logger,
    bodyLimit: config.BODY_LIMIT_BYTES,
    trustProxy: trustProxySetting(config.TRUST_PROXY)
  }).withTypeProvider<TypeBoxTypeProvider>()
  const root = app as unknown as FastifyInstance
  useStrictValidation(root)
  // A known path with a method it does not take: 405 with Allow, not 404.
  useMethodNotAllowed(root, 'GW')
  // Echo the request id, so a client's bug report names the log lines of every service involved.
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id)
  })
  await app.register(problemHandling, { prefix: 'GW' })
  // Counted here, served on the management port only: the public port shows no internals.
  await app.register(metrics, { service: 'gateway', path: false })
  if (config.CORS_ORIGINS !== '') {
    await app.register(cors, {
      origin: config.CORS_ORIGINS === '*' ? '*' : config.CORS_ORIGINS.split(','),
      methods: ['GET', 'POST', 'PATCH', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type', 'idempotency-key', 'x-request-id', 'traceparent'],
      exposedHeaders: ['x-request-id', 'retry-after'],
      maxAge: 600
    })
  }
  const limits = await rateLimits(root, {
    perMinute: config.RATE_LIMIT_PER_MINUTE,
    authPerMinute: config.AUTH_RATE_LIMIT_PER_MINUTE,
    ordersPerMinute: config.ORDER_RATE_LIMIT_PER_MINUTE
  })
  await apiDocs(root)
  await app.register(authentication, { prefix: 'GW', verify })

  const ping = (client: RestClient) => async () => {
    await client.request({ path: '/healthz' })
    return true
  }
  const checks = {
    user: ping(users),
    product: ping(products),
    recommendation: ping(recommendationRest),
    order: async () => (await orderHealth.check({ service: '' }, { timeoutMs: 1000 })).status === HealthCheckResponse_ServingStatus.SERVING
  }
  // One cache for both ports.
  const health = { checks, isShuttingDown: options.isShuttingDown ?? (() => false), readiness: cachedChecks(checks) }
  // From outside, /readyz answers from a result at most a second old: no request rate on either
  // port makes the gateway ask the services more than once a second.
  await app.register(healthRoutes, health)
  const management = Fastify({
    ...SERVICE_FASTIFY_OPTIONS,
    loggerInstance: logger.child({ port: 'management' })
  }) as unknown as FastifyInstance
  metricsRoute(management, root.metrics)
  await management.register(healthRoutes, health)

  await app.register(userRoutes, { userServiceUrl: config.USER_SERVICE_URL, timeoutMs, authRateLimit: limits.hook(limits.auth) })
  await app.register(productRoutes, { productServiceUrl: config.PRODUCT_SERVICE_URL, timeoutMs })
  await app.register(orderRoutes, { orders, orderRateLimit: limits.hook(limits.orders) })

  const orderUpdates = new OrderUpdateHub({ maxPendingPerSubscription: config.LIVE_PENDING_UPDATES })
  const liveConnections = new LiveConnections({
    verify,
    revocations: options.revocations,
    logger,
    limits: {
      maxConnections: config.LIVE_MAX_CONNECTIONS,
      perConnection: config.LIVE_SUBSCRIPTIONS_PER_CONNECTION,
      perUser: config.LIVE_SUBSCRIPTIONS_PER_USER,
      idleMs: config.LIVE_IDLE_TIMEOUT_MS,
      initTimeoutMs: config.LIVE_INIT_TIMEOUT_MS,
      pingIntervalMs: config.LIVE_PING_INTERVAL_MS
    }
  })
  observedGauge(root.metrics, 'gateway_live_connections', 'open WebSocket connections of live subscribers', () => liveConnections.size)
  observedGauge(root.metrics, 'gateway_live_subscriptions', 'open orderUpdated subscriptions', () => orderUpdates.size)
  // Shutdown: clients hear "going away" (1001) and reconnect to another replica.
  app.addHook('preClose', async () => liveConnections.closeAll())
  // A frame is at most a request body; past LIVE_MAX_CONNECTIONS the upgrade is refused.
  // https://github.com/fastify/fastify-websocket#options
  await app.register(websocket, {
    options: {
      maxPayload: config.BODY_LIMIT_BYTES,
      verifyClient: liveConnections.verifyClient,
      // Ours when offered; otherwise the client's first, so it opens and hears why it is closed (4406).
      handleProtocols: (protocols: Set<string>) =>
        protocols.has(GRAPHQL_TRANSPORT_WS) ? GRAPHQL_TRANSPORT_WS : ([...protocols][0] ?? false)
    }
  })
  const hardening = graphqlHardeningFromConfig(config, ['OrderItem.product'])
  await app.register(mercurius, {
    schema: typeDefs,
    resolvers: gatewayResolvers({
      users,
      catalog,
      orders,
      recommendations,
      authRateLimit: limits.auth,
      orderRateLimit: limits.orders
    }) as never,
    loaders: gatewayLoaders(catalog) as never,
    path: '/graphql',
    context: (request) => ({ gateway: new GraphqlRequest(request, verify) }),
    // OrderItem.product: one catalog call per top-level field that reaches it (gatewayLoaders).
    ...hardening,
    validationRules: [...hardening.validationRules, subscriptionsOverWebSocketOnly]
  })
  // Subscriptions over WebSocket on the same path: an upgrade request takes this route, any other
  // GET /graphql mercurius's. The resolver goes on the schema's field (mercurius attaches
  // Subscription resolvers only when it serves the socket itself).
  Object.assign(
    root.graphql.schema.getSubscriptionType()?.getFields().orderUpdated ?? {},
    orderUpdatedSubscription({ hub: orderUpdates, connections: liveConnections, orders, logger })
  )
  root.addConstraintStrategy(WEBSOCKET_UPGRADE)
  root.route({
    method: 'GET',
    url: '/graphql',
    constraints: { upgrade: 'websocket' },
    websocket: true,
    handler: graphqlWsHandler({
      schema: () => root.graphql.schema,
      validationRules: hardening.validationRules,
      connections: liveConnections,
      logger,
      publicError: (error) => publicGraphqlError(error, 'orderUpdated', logger),
      maxBufferedBytes: config.LIVE_MAX_BUFFERED_BYTES
    }) as never
  })

  await storefront(root, { root: config.STOREFRONT_DIR ?? BUNDLED_STOREFRONT })

  return {
    app: root,
    management,
    orderUpdates,
    liveConnections,
    close: async () => {
      await Promise.all([users.close(), products.close(), recommendationRest.close()])
    }
  }
}
