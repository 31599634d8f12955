// The notification service process: consumes user.events and order.events, sends email and
// SMS, and serves its admin API, probes and metrics over HTTP.
import { userServiceTrust } from '@polyshop/auth'
import { mongoClientOptions } from '@polyshop/config'
import { kafkaFromConfig } from '@polyshop/events'
import { gracefulShutdown, listen } from '@polyshop/lifecycle'
import { createLogger } from '@polyshop/logger'
import { MongoClient } from 'mongodb'
import { buildNotificationService } from './app.js'
import { logEmailSender, logSmsSender, smtpSender, webhookSmsSender } from './channels/channels.js'
import { loadNotificationConfig } from './config.js'

const config = loadNotificationConfig()
const logger = createLogger({ name: 'notification', level: config.LOG_LEVEL })
const shutdown = gracefulShutdown({ logger })
// The user service's signing keys and revocations: a signed-out session stops working here within a second.
const trust = await userServiceTrust({ config, logger, shutdown })

const mongo = new MongoClient(config.MONGODB_URL, mongoClientOptions(config))
await mongo.connect()
const smtp = config.SMTP_URL === undefined ? undefined : smtpSender(config.SMTP_URL, config.SMTP_FROM)
const service = await buildNotificationService({
  config,
  db: mongo.db(),
  kafka: kafkaFromConfig('notification', config, logger),
  logger,
  email: smtp ?? logEmailSender(logger),
  sms: config.SMS_WEBHOOK_URL === undefined ? logSmsSender(logger) : webhookSmsSender(config.SMS_WEBHOOK_URL),
  resolveKey: trust.resolveKey,
  revocations: trust.revocations,
  isShuttingDown: () => shutdown.shuttingDown
})
await service.consumer.start()

// After the HTTP server: stop fetching and finish the message in hand (its offset is then
// committed), then SMTP and MongoDB.
shutdown.add({ name: 'kafka consumer', close: () => service.consumer.stop() })
shutdown.add({ name: 'smtp', close: () => smtp?.close() })
shutdown.add({ name: 'mongodb', close: () => mongo.close() })

await listen(service.http, { host: config.HOST, port: config.PORT, shutdown })
