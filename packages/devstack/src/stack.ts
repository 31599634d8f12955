import { join } from 'node:path'
import { ensureTopics, kafkaPid, kafkaVersion, startKafka, stopKafka, type TopicSpec } from './kafka.js'
import { FERRETDB_VERSION, mongoPid, mongoServerKind, startMongo, stopMongo } from './mongo.js'
import { stateDir } from './paths.js'

/** The topics of DESIGN.md; the local system needs them before any service starts. */
export const POLYSHOP_TOPICS: TopicSpec[] = [
  { topic: 'user.events', numPartitions: 3 },
  { topic: 'order.events', numPartitions: 3 },
  { topic: 'notification.dlq', numPartitions: 1 },
  { topic: 'recommendation.dlq', numPartitions: 1 }
]

export interface StackProfile {
  name: string
  dir: string
  kafkaPort: number
  kafkaControllerPort: number
  mongoPort: number
}

/**
 * `local` serves `npm start` on the usual ports; `test` serves `npm test` on its own ports
 * and directory, so tests can run while the local system is up.
 */
const PROFILE_PORTS = {
  local: { kafkaPort: 9092, mongoPort: 27017 },
  test: { kafkaPort: 19092, mongoPort: 27117 },
  bench: { kafkaPort: 29092, mongoPort: 27217 },
  // `npm run chaos` stops and starts these servers on purpose: never the ones of another profile.
  chaos: { kafkaPort: 39092, mongoPort: 27317 }
}

export function stackProfile(name: keyof typeof PROFILE_PORTS): StackProfile {
  const defaults = PROFILE_PORTS[name]
  const kafkaPort = portFromEnv('DEVSTACK_KAFKA_PORT', defaults.kafkaPort)
  return {
    name,
    dir: stateDir(name),
    kafkaPort,
    kafkaControllerPort: portFromEnv('DEVSTACK_KAFKA_CONTROLLER_PORT', kafkaPort + 1),
    mongoPort: portFromEnv('DEVSTACK_MONGO_PORT', defaults.mongoPort)
  }
}

function portFromEnv(name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const port = Number(raw)
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new Error(`${name} must be a TCP port number (1-65535), got "${raw}"`)
  }
  return port
}

export interface StackEndpoints {
  kafkaBrokers: string
  mongodbUrl: string
  /** Which servers this call started (so which its caller should stop); false for external or already-running ones. */
  started: { kafka: boolean; mongo: boolean }
}

/**
 * Brings up Kafka and a MongoDB-wire server unless KAFKA_BROKERS / MONGODB_URL already point
 * at running ones, creates the polyshop topics, and returns where they listen.
 */
export async function startStack(profile: StackProfile, log: (line: string) => void = () => {}): Promise<StackEndpoints> {
  const externalKafka = process.env.KAFKA_BROKERS
  const externalMongo = process.env.MONGODB_URL
  const [kafkaResult, mongoResult] = await Promise.allSettled([
    externalKafka !== undefined && externalKafka !== ''
      ? Promise.resolve({ brokers: externalKafka, started: false })
      : (async () => {
          log(`starting Apache Kafka ${kafkaVersion({})} (KRaft) on 127.0.0.1:${profile.kafkaPort}`)
          const k = await startKafka({
            dir: join(profile.dir, 'kafka'),
            port: profile.kafkaPort,
            controllerPort: profile.kafkaControllerPort
          })
          return { brokers: k.brokers, started: !k.reused }
        })(),
    externalMongo !== undefined && externalMongo !== ''
      ? Promise.resolve({ url: externalMongo, started: false })
      : (async () => {
          log(
            `starting ${mongoServerKind() === 'mongod' ? 'mongod' : `FerretDB ${FERRETDB_VERSION} (SQLite)`} on 127.0.0.1:${profile.mongoPort}`
          )
          const m = await startMongo({ dir: join(profile.dir, 'mongo'), port: profile.mongoPort })
          return { url: m.url, started: !m.reused }
        })()
  ])
  if (kafkaResult.status === 'rejected' || mongoResult.status === 'rejected') {
    // Leave nothing half-started behind.
    if (kafkaResult.status === 'fulfilled' && kafkaResult.value.started) await stopKafka(join(profile.dir, 'kafka'))
    if (mongoResult.status === 'fulfilled' && mongoResult.value.started) await stopMongo(join(profile.dir, 'mongo'))
    throw kafkaResult.status === 'rejected' ? kafkaResult.reason : (mongoResult as PromiseRejectedResult).reason
  }
  const kafka = kafkaResult.value
  const mongo = mongoResult.value
  try {
    await ensureTopics(kafka.brokers, POLYSHOP_TOPICS)
  } catch (error) {
    if (kafka.started) await stopKafka(join(profile.dir, 'kafka'))
    if (mongo.started) await stopMongo(join(profile.dir, 'mongo'))
    throw error
  }
  return { kafkaBrokers: kafka.brokers, mongodbUrl: mongo.url, started: { kafka: kafka.started, mongo: mongo.started } }
}

/** Stops the profile's servers (only those named in `only`, when given). */
export async function stopStack(
  profile: StackProfile,
  only: { kafka: boolean; mongo: boolean } = { kafka: true, mongo: true }
): Promise<{ kafka: boolean; mongo: boolean }> {
  const [kafka, mongo] = await Promise.all([
    only.kafka ? stopKafka(join(profile.dir, 'kafka')) : false,
    only.mongo ? stopMongo(join(profile.dir, 'mongo')) : false
  ])
  return { kafka, mongo }
}

export interface StackStatus {
  profile: string
  dir: string
  kafka: { pid?: number; brokers: string; version: string }
  mongo: { pid?: number; url: string; server: string }
}

export function stackStatus(profile: StackProfile): StackStatus {
  const kafka = kafkaPid(join(profile.dir, 'kafka'))
  const mongo = mongoPid(join(profile.dir, 'mongo'))
  return {
    profile: profile.name,
    dir: profile.dir,
    kafka: { ...(kafka === undefined ? {} : { pid: kafka }), brokers: `127.0.0.1:${profile.kafkaPort}`, version: kafkaVersion({}) },
    mongo: {
      ...(mongo === undefined ? {} : { pid: mongo }),
      url: `mongodb://127.0.0.1:${profile.mongoPort}/`,
      server: mongoServerKind() === 'mongod' ? 'mongod' : `ferretdb ${FERRETDB_VERSION}`
    }
  }
}
