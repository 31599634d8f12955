import type { Consumer, IHeaders, Kafka, KafkaMessage, Producer } from 'kafkajs'
import type { Logger } from 'pino'
import { type DecodedEvent, EventDecodeError, fromKafkaMessage } from './envelope.js'

/** Thrown by a handler for a message that can never succeed: it goes to the DLQ at once. */
export class PermanentEventError extends Error {
  override name = 'PermanentEventError'
}

/** Thrown by a handler for a failure that passes (a server it needs is down): retried while it lasts, never dead-lettered. */
export class TransientEventError extends Error {
  override name = 'TransientEventError'
}

/** Network failures of Node, undici, nodemailer and the MongoDB driver: the other side is away, not the message wrong. */
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNECTION',
  'ESOCKET',
  'EDNS',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET'
])
const TRANSIENT_NAMES = new Set([
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoServerSelectionError',
  'MongoNotConnectedError',
  'MongoPoolClearedError',
  'TimeoutError'
])

/**
 * Whether a handler's failure will pass by itself: a TransientEventError, a lost or refused
 * connection (anywhere in the `cause` chain), a MongoDB server that cannot be selected, or an
 * SMTP server's 4xx ("try again later"). Such an event is retried for as long as the outage
 * lasts: dead-lettering it would lose a notification to an SMTP restart.
 */
export function isTransientFailure(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    const { code, responseCode } = current as { code?: unknown; responseCode?: unknown }
    if (current instanceof TransientEventError || TRANSIENT_NAMES.has(current.name)) return true
    if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return true
    if (typeof responseCode === 'number' && responseCode >= 400 && responseCode < 500) return true
  }
  return false
}

export interface EventConsumerOptions {
  kafka: Kafka
  groupId: string
  topics: string[]
  /** Where poison messages and exhausted retries go, with the reason. */
  deadLetterTopic: string
  logger: Logger
  handle: (event: DecodedEvent) => Promise<void>
  /** Tries per message before it is dead-lettered (failures back off in between); outages (isTransientFailure) do not count. */
  maxAttempts?: number
  minBackoffMs?: number
  maxBackoffMs?: number
}

export interface EventConsumerStats {
  handled: number
  retries: number
  deadLettered: number
  /** Times the consumer stopped (a broker outage outlasting kafkajs's retries) and was started again. */
  restarts: number
}

function copyHeaders(headers: IHeaders | undefined): Record<string, string> {
  const copy: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers ?? {})) {
    const first = Array.isArray(value) ? value[0] : value
    if (first !== undefined) copy[name] = first.toString()
  }
  return copy
}

/**
 * Runs a consumer group over polyshop events. Each message is decoded, handled, and only then
 * its offset committed (kafkajs commits after eachMessage resolves), so a crash redelivers:
 * handlers must be idempotent on the event id. A failure is retried with exponential back-off in
 * place (keeping the partition's order), for as long as it lasts when it is an outage
 * (isTransientFailure); a message that cannot be decoded, that the handler calls permanent, or
 * that fails otherwise maxAttempts times is written to the dead-letter topic
 * with its original key, value and headers plus the reason, and consumption continues. Nothing
 * is skipped silently: if even the dead-letter write fails, the message is not committed.
 *
 * The consumer keeps itself running: when it stops (a broker outage longer than kafkajs's
 * retries), it is started again, with back-off, for as long as the outage lasts. kafkajs's own
 * restart is off: it gives up for good when the broker is still away at its single retry, and
 * the service would go on answering its probes with nothing consumed.
 */
export class EventConsumer {
  readonly #o: Required<Omit<EventConsumerOptions, 'logger'>> & { logger: Logger }
  #consumer: Consumer | undefined
  #producer: Producer | undefined
  #stopping = false
  #restart: ReturnType<typeof setTimeout> | undefined
  readonly stats: EventConsumerStats = { handled: 0, retries: 0, deadLettered: 0, restarts: 0 }

  constructor(options: EventConsumerOptions) {
    this.#o = {
      maxAttempts: 5,
      minBackoffMs: 200,
      maxBackoffMs: 10_000,
      ...options,
      logger: options.logger.child({ component: 'event-consumer', group: options.groupId })
    }
  }

  /** Joins the group and starts consuming; fails if Kafka cannot be reached now (a service then exits and is restarted). */
  async start(): Promise<void> {
    this.#producer = this.#o.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false })
    await this.#producer.connect()
    await this.#run()
  }

  async #run(): Promise<void> {
    const consumer = this.#o.kafka.consumer({
      groupId: this.#o.groupId,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 250,
      retry: { restartOnFailure: async () => false }
    })
    this.#consumer = consumer
    consumer.on(consumer.events.CRASH, (event) => {
      if (this.#stopping || this.#consumer !== consumer) return
      this.#consumer = undefined
      this.#o.logger.error({ err: event.payload.error }, 'the consumer stopped; starting it again')
      void consumer
        .disconnect()
        .catch(() => undefined)
        .finally(() => this.#restartLater(1))
    })
    try {
      await consumer.connect()
      await consumer.subscribe({ topics: this.#o.topics, fromBeginning: true })
      await consumer.run({
        // A partition retrying in place must not stall the others (an order event waiting for
        // its user's registration on another topic, for one).
        partitionsConsumedConcurrently: 4,
        eachMessage: async ({ topic, partition, message, heartbeat }) => this.#process(topic, partition, message, heartbeat)
      })
    } catch (error) {
      if (this.#consumer === consumer) this.#consumer = undefined
      await consumer.disconnect().catch(() => undefined)
      throw error
    }
  }

  /** Starts the consumer again after a pause (1 s, doubling to 30 s), until it runs or the service stops. */
  #restartLater(attempt: number): void {
    // One restart at a time: a crash event and a failed run may both ask for one.
    if (this.#stopping || this.#consumer !== undefined || this.#restart !== undefined) return
    this.#restart = setTimeout(
      () => {
        this.#restart = undefined
        if (this.#stopping || this.#consumer !== undefined) return
        this.#run().then(
          () => {
            this.stats.restarts++
            this.#o.logger.warn({ attempt }, 'consuming again')
          },
          (error: unknown) => {
            if (attempt === 1 || attempt % 10 === 0)
              this.#o.logger.warn({ err: error, attempt }, 'the consumer cannot start yet; trying again')
            this.#restartLater(attempt + 1)
          }
        )
      },
      Math.min(30_000, 1000 * 2 ** (attempt - 1))
    )
  }

  /** Stops fetching, lets the message in hand finish and commits, then disconnects. */
  async stop(): Promise<void> {
    this.#stopping = true
    clearTimeout(this.#restart)
    await this.#consumer?.disconnect()
    await this.#producer?.disconnect()
  }

  async #process(topic: string, partition: number, message: KafkaMessage, heartbeat: () => Promise<void>): Promise<void> {
    let event: DecodedEvent
    try {
      event = fromKafkaMessage(message)
    } catch (error) {
      if (!(error instanceof EventDecodeError)) throw error
      await this.#deadLetter(topic, partition, message, `undecodable: ${error.message}`)
      return
    }
    // `attempt` counts every try (for the back-off); `counted` only those that were not an outage.
    for (let attempt = 1, counted = 0; ; attempt++) {
      try {
        await this.#o.handle(event)
        this.stats.handled++
        return
      } catch (error) {
        const reason = (error as Error).message
        if (!isTransientFailure(error)) counted++
        if (error instanceof PermanentEventError || counted >= this.#o.maxAttempts) {
          await this.#deadLetter(
            topic,
            partition,
            message,
            error instanceof PermanentEventError ? reason : `failed ${counted} times: ${reason}`
          )
          return
        }
        // Shutting down: leave it uncommitted; the next consumer gets it.
        if (this.#stopping) throw error
        this.stats.retries++
        this.#o.logger.warn({ err: error, ceId: event.id, attempt }, 'event handling failed; retrying')
        const delay = Math.min(this.#o.maxBackoffMs, this.#o.minBackoffMs * 2 ** (attempt - 1)) * (0.75 + Math.random() * 0.5)
        await new Promise((resolve) => setTimeout(resolve, delay))
        // Long retries must not look like a dead consumer to the group.
        await heartbeat().catch(() => {})
      }
    }
  }

  async #deadLetter(topic: string, partition: number, message: KafkaMessage, reason: string): Promise<void> {
    const headers = {
      ...copyHeaders(message.headers),
      dlq_reason: reason.slice(0, 1000),
      dlq_topic: topic,
      dlq_partition: String(partition),
      dlq_offset: message.offset,
      dlq_group: this.#o.groupId,
      dlq_time: new Date().toISOString()
    }
    await this.#producer?.send({
      topic: this.#o.deadLetterTopic,
      acks: -1,
      messages: [{ key: message.key, value: message.value, headers }]
    })
    this.stats.deadLettered++
    this.#o.logger.error({ topic, partition, offset: message.offset, reason }, 'message dead-lettered')
  }
}
