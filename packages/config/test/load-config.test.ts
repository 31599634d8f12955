import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { ConfigError, env, loadConfig, mongoClientOptions, mongoVariables, Type, tokenVerificationVariables } from '../src/index.js'

const schema = Type.Object({
  PORT: env.port(3001),
  MONGODB_URL: env.mongoUrl(),
  KAFKA_BROKERS: env.kafkaBrokers(),
  LOG_LEVEL: env.logLevel(),
  RATE_LIMIT_ENABLED: env.flag(true)
})

const valid = { MONGODB_URL: 'mongodb://127.0.0.1:27017/shop', KAFKA_BROKERS: 'kafka-0:9092,kafka-1:9092' }

t.test('converts, fills defaults and ignores undeclared variables', async (t) => {
  const config = loadConfig(schema, { ...valid, PORT: '8080', RATE_LIMIT_ENABLED: 'false', UNRELATED: 'x' })
  t.same(config, { ...valid, PORT: 8080, LOG_LEVEL: 'info', RATE_LIMIT_ENABLED: false })
  t.ok(Object.isFrozen(config))
})

t.test('an empty value counts as unset and takes the default', async (t) => {
  t.equal(loadConfig(schema, { ...valid, PORT: '' }).PORT, 3001)
})

t.test('a missing required variable is named', async (t) => {
  const error = t.throws(() => loadConfig(schema, { KAFKA_BROKERS: valid.KAFKA_BROKERS })) as ConfigError
  t.type(error, ConfigError)
  t.same(
    error.problems.map((p) => p.variable),
    ['MONGODB_URL']
  )
  t.match(error.message, /MONGODB_URL: is required but not set; expected a mongodb:\/\/ or mongodb\+srv:\/\/ connection string/)
})

t.test('every bad variable is named with what was expected', async (t) => {
  const error = t.throws(() => loadConfig(schema, { ...valid, PORT: 'eighty', LOG_LEVEL: 'loud', KAFKA_BROKERS: 'kafka' })) as ConfigError
  t.same(error.problems.map((p) => p.variable).sort(), ['KAFKA_BROKERS', 'LOG_LEVEL', 'PORT'])
  t.match(error.message, /PORT: .*\(got "eighty"\); expected a TCP port/)
  t.match(error.message, /LOG_LEVEL: .*one of fatal, error/)
})

t.test('service tokens cannot share the audience of users’ access tokens', async (t) => {
  const tokens = Type.Object(tokenVerificationVariables)
  t.equal(loadConfig(tokens, {}).SERVICE_TOKEN_AUDIENCE, 'polyshop-internal')
  const error = t.throws(() => loadConfig(tokens, { JWT_AUDIENCE: 'shop', SERVICE_TOKEN_AUDIENCE: 'shop' })) as ConfigError
  t.type(error, ConfigError)
  t.match(error.message, /SERVICE_TOKEN_AUDIENCE: must differ from JWT_AUDIENCE/)
})

t.test("a service's MongoDB pool size defaults to 10, is bounded, and reaches the client options", async (t) => {
  const mongo = Type.Object(mongoVariables)
  const defaults = loadConfig(mongo, { MONGODB_URL: valid.MONGODB_URL })
  t.equal(defaults.MONGODB_MAX_POOL_SIZE, 10)
  t.same(mongoClientOptions(loadConfig(mongo, { MONGODB_URL: valid.MONGODB_URL, MONGODB_MAX_POOL_SIZE: '25' })), {
    serverSelectionTimeoutMS: 10_000,
    socketTimeoutMS: 60_000,
    maxPoolSize: 25
  })
  for (const bad of ['0', '501', 'many', '2.5']) {
    const error = t.throws(() => loadConfig(mongo, { MONGODB_URL: valid.MONGODB_URL, MONGODB_MAX_POOL_SIZE: bad })) as ConfigError
    t.same(
      error.problems.map((p) => p.variable),
      ['MONGODB_MAX_POOL_SIZE'],
      `${bad} is refused`
    )
  }
})

t.test('values of secret-looking variables are never echoed', async (t) => {
  const error = t.throws(() => loadConfig(schema, { ...valid, MONGODB_URL: 'postgres://admin:hunter2@db' })) as ConfigError
  t.match(error.message, /MONGODB_URL/)
  t.notMatch(error.message, /hunter2/)
})

t.test('loadConfigOrExit stops the process with exit code 1 and names the variable', async (t) => {
  const fixture = fileURLToPath(new URL('./fixtures/start-with-bad-config.ts', import.meta.url))
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=@polyshop/source', fixture], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, PORT: '99999', MONGODB_URL: 'mongodb://127.0.0.1/x', KAFKA_BROKERS: 'k:9092' }
  })
  t.equal(result.status, 1)
  t.match(result.stderr, /^example-service: invalid configuration:\n {2}- PORT: .*\(got "99999"\)/)
  t.notMatch(result.stdout, /started/, 'nothing after the config check ran')
})
