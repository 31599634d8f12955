import { type ChildProcess, spawn } from 'node:child_process'
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Code, ConnectError } from '@connectrpc/connect'
import { type PublicKeyResolver, SERVICE_ROLE, type ServiceTokenSource, serviceSubject, toPublicJwk } from '@polyshop/auth'
import { freePort, repoRoot, SERVICE_NODE_OPTIONS, startKafka, stopKafka } from '@polyshop/devstack'
import { createSigner } from 'fast-jwt'
import { Kafka, type KafkaMessage, logLevel } from 'kafkajs'
import { type Db, MongoClient } from 'mongodb'
import { type Logger, pino } from 'pino'

export { freePort } from '@polyshop/devstack'
export { type Mail, messageIdOf, type SmtpFault, smsWebhook, smtpInbox } from './mail.js'
export { ADMIN, startWholeStack, type WholeStack, type WholeStackOptions } from './whole-stack.js'

/** Something tap's `t` provides: teardown hooks. */
interface Teardown {
  teardown(fn: () => unknown): void
}

function required(name: 'KAFKA_BROKERS' | 'MONGODB_URL'): string {
  const value = process.env[name]
  if (value === undefined || value === '') {
    throw new Error(
      `${name} is not set: run integration tests through \`npm test\`, which starts Kafka and the MongoDB-wire server, or set ${name} to a running server`
    )
  }
  return value
}

/** A name no other test file or run uses, for topics, groups and databases. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${randomBytes(4).toString('hex')}`
}

/** A fresh database on the real MongoDB-wire server, dropped when the test ends. */
export async function testDatabase(t: Teardown, prefix = 'test'): Promise<{ db: Db; client: MongoClient; url: string }> {
  const url = required('MONGODB_URL')
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 10_000 })
  await client.connect()
  const db = client.db(uniqueName(prefix).replaceAll('-', '_'))
  t.teardown(async () => {
    await db.dropDatabase().catch(() => {})
    await client.close()
  })
  return { db, client, url }
}

export function testKafka(brokers = required('KAFKA_BROKERS'), clientId = uniqueName('test')): Kafka {
  return new Kafka({
    clientId,
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
    retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 2000 },
    connectionTimeout: 2000
  })
}

/** Creates topics with unique names on the real broker and deletes them when the test ends. */
export async function testTopics(t: Teardown, kafka: Kafka, names: string[], partitions = 3): Promise<Record<string, string>> {
  const topics = Object.fromEntries(names.map((name) => [name, uniqueName(name)]))
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({
    waitForLeaders: true,
    topics: Object.values(topics).map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 }))
  })
  t.teardown(async () => {
    await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => {})
    await admin.disconnect()
  })
  return topics
}

/**
 * Every message of a topic from its beginning, as it arrives (a consumer in a group of its
 * own, disconnected when the test ends). Read the array after `eventually`.
 */
export async function consumeTopic(t: Teardown, kafka: Kafka, topic: string): Promise<KafkaMessage[]> {
  const messages: KafkaMessage[] = []
  const consumer = kafka.consumer({ groupId: uniqueName('collector'), maxWaitTimeInMs: 100 })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({
    eachMessage: async ({ message }) => {
      messages.push(message)
    }
  })
  t.teardown(() => consumer.disconnect())
  return messages
}

/** A logger that keeps what it logged, for assertions, and prints nothing. */
export function testLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = []
  const logger = pino(
    { level: 'debug' },
    {
      write: (line: string) => {
        lines.push(JSON.parse(line))
      }
    }
  )
  return { logger, lines }
}

/** Polls until `probe` returns a value other than undefined, or fails after timeoutMs. */
export async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

export interface ServiceProcess {
  child: ChildProcess
  /** Everything it printed so far, stdout and stderr together. */
  output: () => string
  exited: Promise<number | null>
}

/** The newest modification time of the sources (TypeScript, and the storefront's CSS and HTML) under a directory. */
function newestSource(dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path))
    else if (/\.(ts|tsx|css|html)$/.test(entry.name)) newest = Math.max(newest, statSync(path).mtimeMs)
  }
  return newest
}

/** What `npm run build` made older than what it was made from, or undefined when the build is current. */
function staleBuild(service: string): string | undefined {
  const dir = join(repoRoot, 'services', service)
  const bundle = join(dir, 'dist', 'server.js')
  const sources = Math.max(newestSource(join(dir, 'src')), newestSource(join(repoRoot, 'packages')))
  if (!existsSync(bundle) || statSync(bundle).mtimeMs < sources) return `services/${service}/dist`
  const storefront = join(dir, 'storefront')
  const page = join(dir, 'public', 'index.html')
  if (existsSync(storefront) && (!existsSync(page) || statSync(page).mtimeMs < newestSource(storefront)))
    return `services/${service}/public`
  return undefined
}

/** Service processes still running: killed when the test process exits, however it exits. */
const liveServices = new Set<ChildProcess>()
let killOnExit = false

/**
 * Runs a service the way its container does: the production start command, `node
 * services/<name>/dist/server.js` (what `npm run build` makes), with only the environment given
 * (plus PATH and HOME). Refuses a build older than the sources, so a test never passes on stale
 * code. Killed when the test ends if it is still running, and when the test process exits
 * another way (a start that throws before any teardown runs): a leftover would keep consuming
 * the shared broker's topics in the services' consumer groups. `nodeArgs`: options for node
 * itself that NODE_OPTIONS does not take (e.g. `--cpu-prof`).
 */
export function spawnService(t: Teardown, service: string, env: Record<string, string>, nodeArgs: string[] = []): ServiceProcess {
  const bundle = join(repoRoot, 'services', service, 'dist', 'server.js')
  const stale = staleBuild(service)
  if (stale !== undefined) throw new Error(`${stale} is missing or older than the sources: run \`npm run build\` (npm test does)`)
  const child = spawn(process.execPath, ['--enable-source-maps', ...nodeArgs, bundle], {
    cwd: join(repoRoot, 'services', service),
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_OPTIONS: SERVICE_NODE_OPTIONS, ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  liveServices.add(child)
  child.once('exit', () => liveServices.delete(child))
  if (!killOnExit) {
    killOnExit = true
    process.once('exit', () => {
      for (const running of liveServices) running.kill('SIGKILL')
    })
  }
  let output = ''
  child.stdout?.on('data', (chunk) => {
    output += chunk
  })
  child.stderr?.on('data', (chunk) => {
    output += chunk
  })
  const exited = once(child, 'exit').then(([code]) => code as number | null)
  t.teardown(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    // Profiling (`--cpu-prof` in nodeArgs): the profile is written on a clean exit, so the
    // service is asked to stop and given a few seconds before it is killed.
    if (nodeArgs.includes('--cpu-prof')) {
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
      return
    }
    child.kill('SIGKILL')
  })
  return { child, output: () => output, exited }
}

/** MONGODB_URL of the test server with a database of its own. */
export function uniqueDatabaseUrl(prefix: string): string {
  const url = new URL(required('MONGODB_URL'))
  url.pathname = `/${uniqueName(prefix).replaceAll('-', '_')}`
  return url.toString()
}

/**
 * Stands in for the user service's signing key in other services' tests: access tokens
 * (ES256, the real claims) and the key resolver that accepts them.
 */
export function testTokens(issuer = 'polyshop-user', audience = 'polyshop', serviceAudience = 'polyshop-internal') {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const kid = toPublicJwk(privateKey).kid
  const signerFor = (aud: string, expiresIn = 600_000) =>
    createSigner({
      key: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      algorithm: 'ES256',
      kid,
      iss: issuer,
      aud,
      expiresIn
    })
  const sign = signerFor(audience)
  const signService = signerFor(serviceAudience)
  const publicPem = publicKey.export({ format: 'pem', type: 'spki' }).toString()
  const resolveKey: PublicKeyResolver = async (id) => (id === kid ? publicPem : undefined)
  const serviceToken = (name: string) => signService({ sub: serviceSubject(name), roles: [SERVICE_ROLE], jti: randomUUID() })
  return {
    resolveKey,
    token: (roles: string[], userId: string = randomUUID()) => sign({ sub: userId, roles, jti: randomUUID() }),
    /** A user's token that expires in `expiresInMs`. */
    shortLivedToken: (roles: string[], userId: string, expiresInMs: number) =>
      signerFor(audience, expiresInMs)({ sub: userId, roles, jti: randomUUID() }),
    /** A service token of that service, as the user service issues them. */
    serviceToken,
    /** A token source that always gives that service's token (no user service needed). */
    serviceTokens: (name: string): ServiceTokenSource => ({ token: async () => serviceToken(name), invalidate: () => {} })
  }
}

/** The gRPC status a call ended with, or undefined when it succeeded. */
export async function grpcCode(call: Promise<unknown>): Promise<Code | undefined> {
  try {
    await call
    return undefined
  } catch (error) {
    return ConnectError.from(error).code
  }
}

/**
 * A Kafka broker of the test's own, for tests that stop and restart it (the shared one must
 * stay up for the other files). Stopped and deleted when the test ends. `host`: the address it
 * listens on and advertises (the node's own address when pods must reach it).
 */
export async function privateBroker(
  t: Teardown,
  host = '127.0.0.1'
): Promise<{ brokers: string; stop: () => Promise<void>; start: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'polyshop-broker-'))
  const options = { dir, host, port: await freePort(), controllerPort: await freePort() }
  const { brokers } = await startKafka(options)
  t.teardown(async () => {
    await stopKafka(dir)
    rmSync(dir, { recursive: true, force: true })
  })
  return {
    brokers,
    stop: async () => {
      await stopKafka(dir)
    },
    start: async () => {
      await startKafka(options)
    }
  }
}
export { type GraphqlWsClient, graphqlWs, type WsMessage } from './graphql-ws.js'
