import { readdirSync, readFileSync, statSync } from 'node:fs'
import { isIP } from 'node:net'
import { join } from 'node:path'
import { connect as tlsConnect } from 'node:tls'
import { type ISocketFactory, Kafka, type KafkaConfig, type LogEntry, logLevel } from 'kafkajs'
import type { Logger } from 'pino'

export interface KafkaClientOptions {
  clientId: string
  /** KAFKA_BROKERS: "host:port,host:port". */
  brokers: string
  logger: Logger
  /** SCRAM-SHA-512 credentials (Strimzi KafkaUser); both or neither. */
  username?: string | undefined
  password?: string | undefined
  /** PEM CA certificate(s) of the brokers: set, the connection is TLS and the brokers' certificates are verified against it. */
  tlsCa?: string | undefined
  /**
   * A PEM file, or a directory of *.crt files, with more CA certificates of the brokers; read
   * again for every new connection, so a renewed CA (a Secret volume Kubernetes updates) is
   * trusted without a restart. Set, the connection is TLS.
   */
  tlsCaPath?: string | undefined
  /** Overrides for tests and tools. */
  config?: Partial<KafkaConfig>
}

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug'
}

/**
 * A kafkajs client that logs through the service's pino logger and gives up on an
 * unreachable broker in seconds rather than minutes, so callers (the outbox relay, a
 * consumer) can back off and report instead of hanging.
 */
export function createKafka(options: KafkaClientOptions): Kafka {
  const log = options.logger.child({ component: 'kafkajs' })
  return new Kafka({
    clientId: options.clientId,
    brokers: options.brokers.split(',').map((broker) => broker.trim()),
    connectionTimeout: 3000,
    requestTimeout: 15_000,
    retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 5000 },
    logLevel: logLevel.WARN,
    ...(options.username === undefined || options.password === undefined
      ? {}
      : { sasl: { mechanism: 'scram-sha-512' as const, username: options.username, password: options.password } }),
    ...(options.tlsCa === undefined && options.tlsCaPath === undefined
      ? {}
      : {
          ssl: true,
          socketFactory: verifiedTlsSockets(() => [...(options.tlsCa === undefined ? [] : [options.tlsCa]), ...readCas(options.tlsCaPath)])
        }),
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        const { message, ...extra } = entry
        log[LEVELS[level] ?? 'info']({ ...extra, namespace: entry.namespace }, message)
      },
    ...options.config
  })
}

/** The PEM certificates at `path`: the file, or every *.crt file of the directory (a mounted Secret's keys). */
export function readCas(path: string | undefined): string[] {
  if (path === undefined) return []
  const pems = statSync(path).isDirectory()
    ? readdirSync(path)
        .filter((name) => name.endsWith('.crt') && !name.startsWith('..'))
        .sort()
        .map((name) => readFileSync(join(path, name), 'utf8'))
    : [readFileSync(path, 'utf8')]
  if (!pems.some((pem) => pem.includes('-----BEGIN CERTIFICATE-----'))) {
    throw new Error(`KAFKA_TLS_CA_PATH ${path} holds no PEM certificate: the brokers cannot be verified`)
  }
  return pems
}

/**
 * TLS connections to the brokers, each verifying them against the CAs `cas()` gives at that
 * moment (kafkajs's own factory would keep the certificates it was created with).
 */
function verifiedTlsSockets(cas: () => string[]): ISocketFactory {
  return ({ host, port, onConnect }) => {
    const socket = tlsConnect(
      { host, port, ...(isIP(host) === 0 ? { servername: host } : {}), ca: cas(), rejectUnauthorized: true },
      onConnect
    )
    socket.setKeepAlive(true, 60_000)
    return socket
  }
}

/** A service's Kafka settings, as its configuration holds them (the kafkaVariables of @polyshop/config). */
export interface KafkaConfigVariables {
  KAFKA_BROKERS: string
  KAFKA_SASL_USERNAME?: string | undefined
  KAFKA_SASL_PASSWORD?: string | undefined
  KAFKA_TLS_CA?: string | undefined
  KAFKA_TLS_CA_PATH?: string | undefined
}

/** The service's Kafka client from its configuration: brokers, SCRAM credentials and TLS when configured. */
export function kafkaFromConfig(clientId: string, config: KafkaConfigVariables, logger: Logger): Kafka {
  return createKafka({
    clientId,
    brokers: config.KAFKA_BROKERS,
    username: config.KAFKA_SASL_USERNAME,
    password: config.KAFKA_SASL_PASSWORD,
    tlsCa: config.KAFKA_TLS_CA,
    tlsCaPath: config.KAFKA_TLS_CA_PATH,
    logger
  })
}
