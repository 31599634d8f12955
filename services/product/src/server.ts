// The product service process: configuration, MongoDB, the REST port and the gRPC port.
import { once } from 'node:events'
import { userServiceTrust } from '@polyshop/auth'
import { mongoClientOptions } from '@polyshop/config'
import { closeGrpcServer } from '@polyshop/grpc'
import { gracefulShutdown, listen } from '@polyshop/lifecycle'
import { createLogger } from '@polyshop/logger'
import { MongoClient } from 'mongodb'
import { buildProductService } from './app.js'
import { loadProductConfig } from './config.js'
import { seedDemoCatalog } from './seed/seed.js'

const config = loadProductConfig()
const logger = createLogger({ name: 'product', level: config.LOG_LEVEL })
const shutdown = gracefulShutdown({ logger })
// The user service's signing keys and revocations: a signed-out session stops working here within a second.
const trust = await userServiceTrust({ config, logger, shutdown })

const mongo = new MongoClient(config.MONGODB_URL, mongoClientOptions(config))
await mongo.connect()
const db = mongo.db()

const service = await buildProductService({
  config,
  db,
  logger,
  resolveKey: trust.resolveKey,
  revocations: trust.revocations,
  isShuttingDown: () => shutdown.shuttingDown
})
await service.inventory.recoverInterrupted()
// And every minute: a replica that died mid-reservation leaves its stock held otherwise.
const recovery = setInterval(() => {
  service.inventory
    .recoverInterrupted()
    .catch((error: unknown) => logger.warn({ err: error }, 'could not recover interrupted reservations'))
}, 60_000)
recovery.unref()
if (config.SEED_DEMO_CATALOG) {
  logger.info(await seedDemoCatalog(service.products, service.catalog, config.CATALOG_CURRENCY), 'demo catalog seeded')
}

service.grpc.listen(config.GRPC_PORT, config.HOST)
await once(service.grpc, 'listening')
logger.info({ port: config.GRPC_PORT }, 'gRPC InventoryService listening (gRPC, gRPC-Web, Connect over h2c)')

// After the REST server (listen() puts it first): the gRPC port stops taking calls and
// finishes those in flight, then MongoDB goes.
shutdown.add({ name: 'reservation recovery', close: () => clearInterval(recovery) })
shutdown.add({ name: 'grpc server', close: () => closeGrpcServer(service.grpc) })
shutdown.add({ name: 'mongodb', close: () => mongo.close() })

await listen(service.app, { host: config.HOST, port: config.PORT, shutdown })
