import { mongoClientOptions } from '@polyshop/config'
// The user service process: configuration, MongoDB, the outbox relay, then HTTP.
import { kafkaFromConfig } from '@polyshop/events'
import { gracefulShutdown, listen } from '@polyshop/lifecycle'
import { createLogger } from '@polyshop/logger'
import { OutboxRelay } from '@polyshop/outbox'
import { MongoClient } from 'mongodb'
import { buildApp } from './app.js'
import { loadUserConfig } from './config.js'
import { loadSigningKeys } from './domain/signing-keys.js'

const config = loadUserConfig()
const logger = createLogger({ name: 'user', level: config.LOG_LEVEL })
const shutdown = gracefulShutdown({ logger })

const mongo = new MongoClient(config.MONGODB_URL, mongoClientOptions(config))
await mongo.connect()
// The database named in MONGODB_URL's path (polyshop_user locally).
const db = mongo.db()

const kafka = kafkaFromConfig('user', config, logger)
const relay = new OutboxRelay({ db, collection: 'users', kafka, logger })
await relay.ensureIndexes()
relay.start()

const keys = loadSigningKeys(config.JWT_PRIVATE_KEY, config.JWT_PREVIOUS_PUBLIC_KEYS)
if (keys.generated) {
  logger.warn(
    { kid: keys.current.kid },
    'JWT_PRIVATE_KEY is not set: signing with a key generated for this process; tokens stop verifying on restart and replicas disagree'
  )
}

const app = await buildApp({ config, db, keys, logger, onOutboxCommit: () => relay.wake(), isShuttingDown: () => shutdown.shuttingDown })

if (config.ADMIN_EMAIL !== undefined && config.ADMIN_PASSWORD !== undefined) {
  const outcome = await app.accounts.ensureAdmin(config.ADMIN_EMAIL, config.ADMIN_PASSWORD)
  logger.info({ email: config.ADMIN_EMAIL, outcome }, 'admin account')
}

// FerretDB has no TTL indexes: expired refresh tokens and login-failure windows go here.
const cleanup = setInterval(() => {
  Promise.all([app.refreshTokens.deleteExpired(), app.loginThrottle.deleteExpired(), app.revocations.deleteExpired()]).catch(
    (error: unknown) => logger.warn({ err: error }, 'could not delete expired refresh tokens, sign-in attempts or revocations')
  )
}, 3600_000)
cleanup.unref()

// Closed in this order after the HTTP server (which listen() puts first): the relay
// publishes what it holds, then MongoDB goes.
shutdown.add({ name: 'refresh-token cleanup', close: () => clearInterval(cleanup) })
shutdown.add({ name: 'outbox relay', close: () => relay.stop() })
shutdown.add({ name: 'mongodb', close: () => mongo.close() })

await listen(app, { host: config.HOST, port: config.PORT, shutdown })
