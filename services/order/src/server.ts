// The order service process: MongoDB, the outbox relay, the product service client, the gRPC
// port for OrderService and the HTTP port for probes and metrics.
import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { createClient } from '@connectrpc/connect'
import { createGrpcTransport } from '@connectrpc/connect-node'
import { serviceTokenSource, userServiceTrust } from '@polyshop/auth'
import { mongoClientOptions } from '@polyshop/config'
import { kafkaFromConfig } from '@polyshop/events'
import { closeGrpcServer, retryUnavailable, serviceTokenInterceptor } from '@polyshop/grpc'
import { gracefulShutdown, listen } from '@polyshop/lifecycle'
import { createLogger } from '@polyshop/logger'
import { OutboxRelay } from '@polyshop/outbox'
import { InventoryService } from '@polyshop/proto'
import { MongoClient } from 'mongodb'
import { buildOrderService } from './app.js'
import { loadOrderConfig } from './config.js'

const config = loadOrderConfig()
const logger = createLogger({ name: 'order', level: config.LOG_LEVEL })
const shutdown = gracefulShutdown({ logger })
// The user service's signing keys and revocations: a signed-out session stops working here within a second.
const trust = await userServiceTrust({ config, logger, shutdown })

const mongo = new MongoClient(config.MONGODB_URL, mongoClientOptions(config))
await mongo.connect()
const db = mongo.db()
const relay = new OutboxRelay({
  db,
  collection: 'orders',
  kafka: kafkaFromConfig('order', config, logger),
  logger
})
await relay.ensureIndexes()
relay.start()

// This service's own credentials, for the token the product service requires on reservations;
// the first token is fetched before serving (retried while the user service is not reachable
// yet, for up to USER_SERVICE_WAIT_SECONDS), so the first order does not wait for it.
const serviceTokens = serviceTokenSource({
  userServiceUrl: config.USER_SERVICE_URL,
  clientId: config.SERVICE_CLIENT_ID,
  clientSecret: config.SERVICE_CLIENT_SECRET
})
for (const deadline = Date.now() + config.USER_SERVICE_WAIT_SECONDS * 1000; ; await sleep(500)) {
  const error = await serviceTokens.token().then(
    () => undefined,
    (failure: unknown) => failure
  )
  if (error === undefined) break
  if (Date.now() >= deadline) {
    logger.warn({ err: error }, 'no service token yet; the first reservation will ask again')
    break
  }
}

const service = await buildOrderService({
  config,
  db,
  logger,
  resolveKey: trust.resolveKey,
  revocations: trust.revocations,
  // gRPC over HTTP/2 to the product service; every call carries its own deadline and this
  // service's own token (the product service refuses reservations from anyone else). A call
  // the product service was not there to take (a pod restarting, a DNS blip) is sent again
  // within its deadline: every InventoryService method is idempotent.
  inventory: createClient(
    InventoryService,
    createGrpcTransport({
      baseUrl: config.PRODUCT_GRPC_URL,
      interceptors: [retryUnavailable(), serviceTokenInterceptor(serviceTokens)]
    })
  ),
  onOutboxCommit: () => relay.wake(),
  isShuttingDown: () => shutdown.shuttingDown
})

// Every RECOVERY_INTERVAL_SECONDS: stock still held by interrupted attempts, and unpaid orders past their time.
const recovery = setInterval(() => {
  service.orders
    .recover(config.INTERRUPTED_ORDER_GRACE_SECONDS * 1000)
    .catch((error: unknown) => logger.warn({ err: error }, 'order recovery failed; will retry'))
  service.orders.expireUnpaid().catch((error: unknown) => logger.warn({ err: error }, 'expiring unpaid orders failed; will retry'))
}, config.RECOVERY_INTERVAL_SECONDS * 1000)
recovery.unref()

service.grpc.listen(config.GRPC_PORT, config.HOST)
await once(service.grpc, 'listening')
logger.info({ port: config.GRPC_PORT }, 'gRPC OrderService listening (gRPC, gRPC-Web, Connect over h2c)')

shutdown.add({ name: 'grpc server', close: () => closeGrpcServer(service.grpc) })
shutdown.add({ name: 'recovery', close: () => clearInterval(recovery) })
shutdown.add({ name: 'outbox relay', close: () => relay.stop() })
shutdown.add({ name: 'mongodb', close: () => mongo.close() })

await listen(service.http, { host: config.HOST, port: config.PORT, shutdown })
