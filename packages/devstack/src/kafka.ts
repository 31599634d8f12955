import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import { ensureMavenJars } from './maven.js'
import { cacheDir } from './paths.js'
import { isPortOpen, runningPid, spawnDaemon, stopDaemon, waitUntil } from './processes.js'
import { requireJava, runStep } from './tools.js'

/**
 * The Kafka line Strimzi 1.2 runs in the cluster, so local runs and tests meet the same
 * broker. kafkajs 2.2.4 works against it (idempotent producer, consumer groups, admin):
 * the packages/events and packages/outbox tests prove it on every run.
 */
export const DEFAULT_KAFKA_VERSION = '4.3.1'
const LOG4J_VERSION = '2.25.3'

export interface KafkaOptions {
  dir: string
  port: number
  controllerPort: number
  /** The address the broker listens on and advertises; 127.0.0.1 unless pods must reach it (the real-node test). */
  host?: string
  version?: string
  /** JVM heap; the broker is happy with little on a laptop or CI box. */
  heap?: string
  /**
   * A second listener speaking TLS, for tests of the clients' TLS: its port and a PEM file
   * holding the broker's private key (PKCS#8, unencrypted) and certificate chain.
   */
  tls?: { port: number; keystore: string }
}

export function kafkaVersion(options: Pick<KafkaOptions, 'version'>): string {
  return options.version ?? process.env.DEVSTACK_KAFKA_VERSION ?? DEFAULT_KAFKA_VERSION
}

/**
 * The broker's jars, resolved from Maven Central with Maven into the cache once
 * (org.apache.kafka:kafka_2.13 and its runtime dependencies, plus a log4j binding).
 */
export function ensureKafkaRuntime(version: string): string {
  return resolveKafkaJars(version, 'libs', 'kafka_2.13')
}

/**
 * Kafka's command-line tools (org.apache.kafka:kafka-tools: kafka-topics and friends) and their
 * dependencies, for the broker image that stands in for the official one (stand-in-images.ts).
 */
export function ensureKafkaTools(version: string): string {
  return resolveKafkaJars(version, 'tools-libs', 'kafka-tools')
}

function resolveKafkaJars(version: string, folder: string, artifact: string): string {
  return ensureMavenJars(
    join(cacheDir(), `kafka-${version}`, folder),
    `${artifact}-${version}.jar`,
    [
      ['org.apache.kafka', artifact, version],
      ['org.apache.logging.log4j', 'log4j-slf4j-impl', LOG4J_VERSION]
    ],
    `Apache Kafka ${version} (${artifact})`
  )
}

function serverProperties(options: KafkaOptions): string {
  const host = options.host ?? '127.0.0.1'
  const tls = options.tls
  return [
    '# Written by polyshop devstack: a single-node KRaft broker for development and tests.',
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@${host}:${options.controllerPort}`,
    `listeners=PLAINTEXT://${host}:${options.port},CONTROLLER://${host}:${options.controllerPort}${tls === undefined ? '' : `,SSL://${host}:${tls.port}`}`,
    `advertised.listeners=PLAINTEXT://${host}:${options.port}${tls === undefined ? '' : `,SSL://${host}:${tls.port}`}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    `listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT${tls === undefined ? '' : ',SSL:SSL'}`,
    ...(tls === undefined ? [] : ['ssl.keystore.type=PEM', `ssl.keystore.location=${tls.keystore}`]),
    `log.dirs=${join(options.dir, 'data')}`,
    // Topics are created on purpose, never by a typo in a consumer.
    'auto.create.topics.enable=false',
    'num.partitions=3',
    'offsets.topic.replication.factor=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    ''
  ].join('\n')
}

/** Warnings, and the broker's start and stop: what a developer needs from the broker's log. */
export const KAFKA_LOG4J2 = `status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.stdout.ref = STDOUT
logger.server.name = kafka.server.KafkaRaftServer
logger.server.level = info
`

function files(dir: string) {
  return {
    properties: join(dir, 'server.properties'),
    log4j: join(dir, 'log4j2.properties'),
    data: join(dir, 'data'),
    log: join(dir, 'kafka.log'),
    pid: join(dir, 'kafka.pid')
  }
}

/**
 * A random Kafka cluster id: 16 bytes in URL-safe base64. Like Kafka's own Uuid.randomUuid,
 * never one that starts with "-", which the storage tool would read as an option.
 */
export function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url')
    if (!id.startsWith('-')) return id
  }
}

export function kafkaPid(dir: string): number | undefined {
  return runningPid(files(dir).pid)
}

/** Starts the broker (formatting its storage on first start) and waits until it serves. */
/** `reused`: it was already running (started by someone else, who will stop it). */
export async function startKafka(options: KafkaOptions): Promise<{ brokers: string; pid: number; reused: boolean }> {
  const host = options.host ?? '127.0.0.1'
  const brokers = `${host}:${options.port}`
  const f = files(options.dir)
  const running = kafkaPid(options.dir)
  if (running !== undefined) {
    await waitForKafka(brokers, { timeoutMs: 60_000, pid: running, logFile: f.log })
    return { brokers, pid: running, reused: true }
  }
  for (const port of [options.port, options.controllerPort]) {
    if (await isPortOpen(port, host)) {
      throw new Error(`port ${port} is already in use by another program; choose other ports (DEVSTACK_KAFKA_PORT) or stop it`)
    }
  }
  requireJava(17)
  const version = kafkaVersion(options)
  const libs = ensureKafkaRuntime(version)
  mkdirSync(options.dir, { recursive: true })
  writeFileSync(f.properties, serverProperties(options))
  writeFileSync(f.log4j, KAFKA_LOG4J2)
  const classpath = `${libs}/*`
  const jvm = [
    `-Xms${options.heap ?? '256m'}`,
    `-Xmx${options.heap ?? '512m'}`,
    '-XX:+UseG1GC',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${f.log4j}`
  ]
  const formatted = existsSync(f.data) && readdirSync(f.data).includes('meta.properties')
  if (!formatted) {
    // KRaft storage needs a cluster id written once before the first start.
    const clusterId = newClusterId()
    runStep('formatting Kafka storage', 'java', [
      ...jvm,
      '-cp',
      classpath,
      'kafka.tools.StorageTool',
      'format',
      '-t',
      clusterId,
      '-c',
      f.properties
    ])
  }
  const pid = spawnDaemon({
    name: 'kafka',
    command: 'java',
    args: [...jvm, '-cp', classpath, 'kafka.Kafka', f.properties],
    cwd: options.dir,
    logFile: f.log,
    pidFile: f.pid
  })
  try {
    await waitForKafka(brokers, { timeoutMs: 90_000, pid, logFile: f.log })
  } catch (error) {
    await stopKafka(options.dir) // never leave a broker behind that failed to become ready
    throw error
  }
  return { brokers, pid, reused: false }
}

export async function stopKafka(dir: string): Promise<boolean> {
  return await stopDaemon(files(dir).pid, 30_000)
}

/** Ready means the broker answers metadata requests, not merely that its port is open. */
export async function waitForKafka(brokers: string, options: { timeoutMs: number; pid?: number; logFile?: string }): Promise<void> {
  const kafka = new Kafka({
    clientId: 'devstack-probe',
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    connectionTimeout: 1000
  })
  await waitUntil(
    `Kafka at ${brokers}`,
    async () => {
      const admin = kafka.admin()
      try {
        await admin.connect()
        const cluster = await admin.describeCluster()
        return cluster.brokers.length > 0 && cluster.controller !== null
      } finally {
        await admin.disconnect().catch(() => {})
      }
    },
    options
  )
}

export interface TopicSpec {
  topic: string
  numPartitions?: number
}

/** Creates the topics that do not exist yet (auto-creation is off on purpose). */
export async function ensureTopics(brokers: string, topics: TopicSpec[]): Promise<void> {
  const kafka = new Kafka({ clientId: 'devstack-admin', brokers: brokers.split(','), logLevel: logLevel.ERROR })
  const admin = kafka.admin()
  await admin.connect()
  try {
    const existing = new Set(await admin.listTopics())
    const missing = topics.filter((t) => !existing.has(t.topic))
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((t) => ({ topic: t.topic, numPartitions: t.numPartitions ?? 3, replicationFactor: 1 }))
      })
    }
  } finally {
    await admin.disconnect()
  }
}
