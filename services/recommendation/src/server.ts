// The recommendation service process: learns from order.events, answers GraphQL over HTTP.
import { userServiceTrust } from '@polyshop/auth'
import { mongoClientOptions } from '@polyshop/config'
import { kafkaFromConfig } from '@polyshop/events'
import { gracefulShutdown, listen } from '@polyshop/lifecycle'
import { createLogger } from '@polyshop/logger'
import { MongoClient } from 'mongodb'
import { buildRecommendationService } from './app.js'
import { loadRecommendationConfig } from './config.js'

const config = loadRecommendationConfig()
const logger = createLogger({ name: 'recommendation', level: config.LOG_LEVEL })
const shutdown = gracefulShutdown({ logger })
// The user service's signing keys and revocations: a signed-out session stops working here within a second.
const trust = await userServiceTrust({ config, logger, shutdown })

const mongo = new MongoClient(config.MONGODB_URL, mongoClientOptions(config))
await mongo.connect()
const service = await buildRecommendationService({
  config,
  db: mongo.db(),
  kafka: kafkaFromConfig('recommendation', config, logger),
  logger,
  resolveKey: trust.resolveKey,
  revocations: trust.revocations,
  isShuttingDown: () => shutdown.shuttingDown
})
await service.consumer.start()

shutdown.add({ name: 'kafka consumer', close: () => service.consumer.stop() })
shutdown.add({ name: 'catalog client', close: () => service.close() })
shutdown.add({ name: 'mongodb', close: () => mongo.close() })

await listen(service.http, { host: config.HOST, port: config.PORT, shutdown })
