import type { Consumer, IHeaders, Kafka, KafkaMessage, Producer } from 'kafkajs'
import type { Logger } from 'pino'
import { type DecodedEvent, EventDecodeError, fromKafkaMessage } from './envelope.js'

/** Thrown by a handler for a message that can never succeed: it goes to the DLQ at once. */
export class PermanentEventError extends Error {
  override name = 'PermanentEventError'
}

export interface EventConsumerOptions {
  kafka: Kafka
  groupId: string
  topics: string[]
  /** Where poison messages and exhausted retries go, with the reason. */
  deadLetterTopic: string
  logger: Logger
  handle: (event: DecodedEvent) => Promise<void>
  /** Tries per message before it is dead-lettered (transient failures back off in between). */
  maxAttempts?: number
  minBackoffMs?: number
  maxBackoffMs?: number
}

export interface EventConsumerStats {
  handled: number
  retries: number
  deadLettered: number
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
 * handlers must be idempotent on the event id. A transient failure is retried with exponential
 * back-off in place (keeping the partition's order); a message that cannot be decoded, that the
 * handler calls permanent, or that fails maxAttempts times is written to the dead-letter topic
 * with its original key, value and headers plus the reason, and consumption continues. Nothing
 * is skipped silently: if even the dead-letter write fails, the message is not committed.
 */
export class EventConsumer {
  readonly #o: Required<Omit<EventConsumerOptions, 'logger'>> & { logger: Logger }
  #consumer: Consumer | undefined
  #producer: Producer | undefined
  #stopping = false
  readonly stats: EventConsumerStats = { handled: 0, retries: 0, deadLettered: 0 }

  constructor(options: EventConsumerOptions) {
    this.#o = {
      maxAttempts: 5,
      minBackoffMs: 200,
      maxBackoffMs: 10_000,
      ...options,
      logger: options.logger.child({ component: 'event-consumer', group: options.groupId })
    }
  }

  async start(): Promise<void> {
    this.#producer = this.#o.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false })
    await this.#producer.connect()
    this.#consumer = this.#o.kafka.consumer({ groupId: this.#o.groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 250 })
    await this.#consumer.connect()
    await this.#consumer.subscribe({ topics: this.#o.topics, fromBeginning: true })
    await this.#consumer.run({
      // A partition retrying in place must not stall the others (an order event waiting for
      // its user's registration on another topic, for one).
      partitionsConsumedConcurrently: 4,
      eachMessage: async ({ topic, partition, message, heartbeat }) => this.#process(topic, partition, message, heartbeat)
    })
  }

  /** Stops fetching, lets the message in hand finish and commits, then disconnects. */
  async stop(): Promise<void> {
    this.#stopping = true
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
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#o.handle(event)
        this.stats.handled++
        return
      } catch (error) {
        const reason = (error as Error).message
        if (error instanceof PermanentEventError || attempt >= this.#o.maxAttempts) {
          await this.#deadLetter(
            topic,
            partition,
            message,
            error instanceof PermanentEventError ? reason : `failed ${attempt} times: ${reason}`
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
