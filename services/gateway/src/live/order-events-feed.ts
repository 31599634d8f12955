import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import { EventDecodeError, fromKafkaMessage } from '@polyshop/events'
import type { Consumer, Kafka } from 'kafkajs'
import type { Logger } from 'pino'
import { type OrderUpdate, orderUpdateFromEvent } from './order-updates.js'

/** Every gateway consumer group starts so (the prefix its Kafka ACL allows). */
export const LIVE_GROUP_PREFIX = 'gateway-live-'

export const ORDER_EVENTS_TOPIC = 'order.events'

export interface OrderEventsFeedOptions {
  kafka: Kafka
  logger: Logger
  publish: (update: OrderUpdate) => void
  /** Unique per process by default: every gateway replica must see every event. */
  groupId?: string
  /** order.events unless a test says otherwise. */
  topic?: string
}

/**
 * Reads `order.events` for the gateway's live subscribers. Each process is its own consumer
 * group (prefix + host + random), so every replica gets every event; the group starts at the
 * events since the process started (a subscriber wants what happens from now on, and nothing
 * that happened while the group was joining is lost) and commits as it goes, so a
 * consumer that rejoins after a broker outage resumes where it was instead of skipping what
 * happened meanwhile. Nothing is written back: a message this reader cannot decode is the
 * business of the consumers that own the topic's dead-letter queues, so it is skipped here.
 * Kafka removes a departed replica's group once its offsets expire (offsets.retention.minutes).
 */
export class OrderEventsFeed {
  readonly groupId: string
  readonly #topic: string
  readonly #o: OrderEventsFeedOptions
  readonly #log: Logger
  #consumer: Consumer | undefined
  #stopped = false
  #retry: NodeJS.Timeout | undefined
  #running = false
  /** Where a new group starts reading: the events since this process started (none lost while it joins). */
  readonly #startedAt = Date.now()
  #joined = false

  constructor(options: OrderEventsFeedOptions) {
    this.#o = options
    this.#topic = options.topic ?? ORDER_EVENTS_TOPIC
    this.groupId = options.groupId ?? `${LIVE_GROUP_PREFIX}${hostname()}-${randomBytes(4).toString('hex')}`.slice(0, 200)
    this.#log = options.logger.child({ component: 'order-events-feed', group: this.groupId })
  }

  /** True once the consumer runs; live updates flow. */
  get running(): boolean {
    return this.#running
  }

  /** Starts in the background: the gateway serves without Kafka, only live updates wait for it. */
  start(): void {
    void this.#connect(1)
  }

  async stop(): Promise<void> {
    this.#stopped = true
    clearTimeout(this.#retry)
    await this.#consumer?.disconnect().catch(() => {})
    this.#running = false
  }

  async #connect(attempt: number): Promise<void> {
    if (this.#stopped) return
    // A long poll: the broker answers as soon as an event arrives, so waiting longer costs no latency, only idle fetches.
    const consumer = this.#o.kafka.consumer({
      groupId: this.groupId,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 1000,
      // Restarts are ours (below): kafkajs's single restart can leave the consumer stopped for good.
      retry: { restartOnFailure: async () => false }
    })
    this.#consumer = consumer
    try {
      await consumer.connect()
      await consumer.subscribe({ topics: [this.#topic], fromBeginning: false })
      const startOffsets = this.#joined ? [] : await this.#offsetsAt(this.#startedAt)
      consumer.on(consumer.events.GROUP_JOIN, () => {
        if (this.#joined) return
        this.#joined = true
        for (const { partition, offset } of startOffsets) consumer.seek({ topic: this.#topic, partition, offset })
      })
      // A crash (a broker outage outlasting kafkajs's retries): start over from here, with back-off.
      consumer.on(consumer.events.CRASH, (event) => {
        if (this.#consumer !== consumer || this.#stopped) return
        this.#running = false
        this.#log.error({ err: event.payload.error }, 'live order updates stopped; reconnecting')
        void consumer.disconnect().finally(() => this.#later(1))
      })
      await consumer.run({
        partitionsConsumedConcurrently: 4,
        eachMessage: async ({ message }) => {
          try {
            const update = orderUpdateFromEvent(fromKafkaMessage(message))
            if (update !== undefined) this.#o.publish(update)
          } catch (error) {
            if (!(error instanceof EventDecodeError)) throw error
            this.#log.debug({ offset: message.offset, reason: error.message }, 'not an order event; skipped')
          }
        }
      })
      this.#running = true
      this.#log.info({ topic: this.#topic }, 'live order updates: consuming')
    } catch (error) {
      await consumer.disconnect().catch(() => {})
      this.#log.warn({ err: error, attempt }, 'live order updates: Kafka unreachable; retrying')
      this.#later(attempt + 1)
    }
  }

  async #offsetsAt(time: number): Promise<Array<{ partition: number; offset: string }>> {
    const admin = this.#o.kafka.admin()
    await admin.connect()
    try {
      return await admin.fetchTopicOffsetsByTimestamp(this.#topic, time)
    } finally {
      await admin.disconnect()
    }
  }

  #later(attempt: number): void {
    if (this.#stopped) return
    const delay = Math.min(30_000, 500 * 2 ** Math.min(attempt, 6)) * (0.75 + Math.random() * 0.5)
    this.#retry = setTimeout(() => void this.#connect(attempt), delay)
    this.#retry.unref()
  }
}
