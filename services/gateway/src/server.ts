// The gateway process: the one public HTTP port. Owns no data; closing it only drains requests
// and the connection pools to the services.
import { createGrpcTransport, Http2SessionManager } from '@connectrpc/connect-node'
import { userServiceTrust } from '@polyshop/auth'
import { kafkaFromConfig } from '@polyshop/events'
import { gracefulShutdown, listen } from '@polyshop/lifecycle'
import { createLogger } from '@polyshop/logger'
import { observedGauge } from '@polyshop/metrics'
import { buildGateway } from './app.js'
import { loadGatewayConfig } from './config.js'
import { OrderEventsFeed } from './live/order-events-feed.js'

const config = loadGatewayConfig()
const logger = createLogger({ name: 'gateway', level: config.LOG_LEVEL })
const shutdown = gracefulShutdown({ logger })
// The user service's signing keys and revocations: a signed-out session stops working here within a second.
const trust = await userServiceTrust({ config, logger, shutdown })

// One multiplexed HTTP/2 connection to the order service, pinged so a dead peer is noticed, closed at shutdown.
const orderSessions = new Http2SessionManager(config.ORDER_GRPC_URL, { pingIntervalMs: 30_000, idleConnectionTimeoutMs: 300_000 })
const gateway = await buildGateway({
  config,
  logger,
  resolveKey: trust.resolveKey,
  revocations: trust.revocations,
  orderTransport: createGrpcTransport({ baseUrl: config.ORDER_GRPC_URL, sessionManager: orderSessions }),
  isShuttingDown: () => shutdown.shuttingDown
})
// Live order updates: this process's own consumer of order.events, in the background (the shop
// works without Kafka; only the updates wait for it).
const orderEvents = new OrderEventsFeed({
  kafka: kafkaFromConfig('gateway', config, logger),
  logger,
  publish: (update) => gateway.orderUpdates.publish(update)
})
orderEvents.start()
observedGauge(gateway.app.metrics, 'gateway_live_feed_consuming', '1 while order.events is being read for live subscribers', () =>
  orderEvents.running ? 1 : 0
)
shutdown.add({ name: 'service clients', close: () => gateway.close() })
shutdown.add({ name: 'order events consumer', close: () => orderEvents.stop() })
shutdown.add({ name: 'order service connection', close: () => orderSessions.abort() })

await listen(gateway.management, { host: config.HOST, port: config.MANAGEMENT_PORT, shutdown })
logger.info({ port: config.MANAGEMENT_PORT }, 'management port listening (/metrics, /healthz, /readyz)')
await listen(gateway.app, { host: config.HOST, port: config.PORT, shutdown })
