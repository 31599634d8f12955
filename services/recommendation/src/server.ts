// The recommendation service process: learns from order.events, answers GraphQL over HTTP.
import { jwksKeyResolver } from '@polyshop/auth'
import { mongoClientOptions } from '@polyshop/config'
import { createKafka } from '@polyshop/events'
import { gracefulShutdown, listen } from '@polyshop/lifecycle'
import { createLogger } from '@polyshop/logger'
import { MongoClient } from 'mongodb'
import { buildRecommendationService } from './app.js'
import { loadRecommendationConfig } from './config.js'

const config = loadRecommendationConfig()
const logger = createLogger({ name: 'recommendation', level: config.LOG_LEVEL })
const shutdown = gracefulShutdown({ logger })

const mongo = new MongoClient(config.MONGODB_URL, mongoClientOptions(config))
await mongo.connect()
const service = await buildRecommendationService({
  config,
  db: mongo.db(),
  kafka: createKafka({
    clientId: 'recommendation',
    brokers: config.KAFKA_BROKERS,
    username: config.KAFKA_SASL_USERNAME,
    password: config.KAFKA_SASL_PASSWORD,
    logger
  }),
  logger,
  resolveKey: jwksKeyResolver({ url: new URL('/.well-known/jwks.json', config.USER_SERVICE_URL).toString() }),
  isShuttingDown: () => shutdown.shuttingDown
})
await service.consumer.start()

shutdown.add({ name: 'kafka consumer', close: () => service.consumer.stop() })
shutdown.add({ name: 'catalog client', close: () => service.close() })
shutdown.add({ name: 'mongodb', close: () => mongo.close() })

await listen(service.http, { host: config.HOST, port: config.PORT, shutdown })
