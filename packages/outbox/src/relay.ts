import { type EventRecord, toKafkaMessage } from '@polyshop/events'
import type { Kafka, Producer, TopicMessages } from 'kafkajs'
import type { Db, Filter, WithId } from 'mongodb'
import type { Logger } from 'pino'
import { type AggregateId, type OutboxCollections, type OutboxSignal, outboxCollections } from './collections.js'

export interface OutboxRelayOptions {
  db: Db
  /** The aggregate collection whose documents carry outbox fields. */
  collection: string
  kafka: Kafka
  logger: Logger
  /** How often to look for signals when nobody called wake(). */
  pollIntervalMs?: number
  /** How long a claimed signal belongs to this relay before another may take it. */
  leaseMs?: number
  /** Back-off after a failed publish: starts here, doubles, stops growing at maxBackoffMs. */
  minBackoffMs?: number
  maxBackoffMs?: number
  /** Kafka's own retries for one send before the relay backs off and tries again (at least 1: an idempotent producer needs retries). */
  sendRetries?: number
  /** How often to look for committed events whose signal was never written. */
  reconcileIntervalMs?: number
  /** How far before the last reconciliation to look again (clock skew, slow writers). */
  reconcileOverlapMs?: number
}

export interface OutboxRelayStats {
  published: number
  failures: number
  reconciled: number
  lastError: string | undefined
}

const WATERMARK_ID = 'reconciliation'

/**
 * Publishes the events that aggregate documents carry in their `outbox` field to Kafka.
 *
 * - Complete: writers record a signal after each commit; the relay also reconciles, scanning
 *   documents whose outbox changed since its last pass, so events whose signal was lost
 *   (a crash between commit and signal) are published too.
 * - In order per aggregate: an aggregate's events are published in the order written, from
 *   where the last publication stopped, through an idempotent producer with one request in
 *   flight; the Kafka key is the aggregate id, so they share a partition.
 * - At least once: progress is recorded after Kafka acknowledges, so a crash in between
 *   republishes; consumers dedupe on ce_id.
 * - Outage-proof: while Kafka is unreachable the events stay in MongoDB and the relay retries
 *   with back-off.
 *
 * It never writes the aggregate documents (see OutboxFields), and uses only operations
 * FerretDB v1 and MongoDB share.
 */
export class OutboxRelay {
  readonly #collections: OutboxCollections
  readonly #kafka: Kafka
  readonly #log: Logger
  readonly #pollIntervalMs: number
  readonly #leaseMs: number
  readonly #minBackoffMs: number
  readonly #maxBackoffMs: number
  readonly #sendRetries: number
  readonly #reconcileIntervalMs: number
  readonly #reconcileOverlapMs: number
  #producer: Producer | undefined
  #running = false
  #loop: Promise<void> | undefined
  #wakeUp: (() => void) | undefined
  #wakeRequested = false
  #consecutiveFailures = 0
  #nextReconcile = 0
  readonly stats: OutboxRelayStats = { published: 0, failures: 0, reconciled: 0, lastError: undefined }

  constructor(options: OutboxRelayOptions) {
    this.#collections = outboxCollections(options.db, options.collection)
    this.#kafka = options.kafka
    this.#log = options.logger.child({ component: 'outbox-relay', collection: options.collection })
    this.#pollIntervalMs = options.pollIntervalMs ?? 1000
    this.#leaseMs = options.leaseMs ?? 30_000
    this.#minBackoffMs = options.minBackoffMs ?? 250
    this.#maxBackoffMs = options.maxBackoffMs ?? 15_000
    this.#sendRetries = Math.max(1, options.sendRetries ?? 3)
    this.#reconcileIntervalMs = options.reconcileIntervalMs ?? 60_000
    this.#reconcileOverlapMs = options.reconcileOverlapMs ?? 5 * 60_000
  }

  /** Indexes for the relay's queries; call once at start (idempotent). */
  async ensureIndexes(): Promise<void> {
    await this.#collections.aggregates.createIndex({ outboxUpdatedAt: 1 }, { name: 'outbox_updated_at' })
    await this.#collections.signals.createIndex({ leaseUntil: 1 }, { name: 'outbox_signal_lease' })
  }

  start(): void {
    if (this.#running) return
    this.#running = true
    this.#nextReconcile = 0
    this.#loop = this.#run()
  }

  /** Look for work now: the writer calls this after every commit that added events. */
  wake(): void {
    this.#wakeRequested = true
    this.#wakeUp?.()
  }

  /** Finishes the aggregate in hand, then stops and disconnects the producer. */
  async stop(): Promise<void> {
    this.#running = false
    this.#wakeUp?.()
    await this.#loop
    this.#loop = undefined
    await this.#disconnect()
  }

  async #run(): Promise<void> {
    while (this.#running) {
      let worked = false
      try {
        if (Date.now() >= this.#nextReconcile) {
          await this.reconcile()
          this.#nextReconcile = Date.now() + this.#reconcileIntervalMs
        }
        worked = await this.relayOne()
        this.#consecutiveFailures = 0
      } catch (error) {
        this.#consecutiveFailures++
        this.stats.failures++
        this.stats.lastError = (error as Error).message
        this.#log.warn({ err: error, attempt: this.#consecutiveFailures }, 'outbox relay could not publish; will retry')
        await this.#disconnect()
        await this.#idle(this.#backoff(this.#consecutiveFailures))
        continue
      }
      if (!worked) await this.#idle(this.#pollIntervalMs)
    }
  }

  /**
   * Takes the oldest free signal, publishes its aggregate's unpublished events, and deletes
   * the signal. Resolves false when there was nothing to do. Public for tests and draining.
   */
  async relayOne(): Promise<boolean> {
    const now = new Date()
    const signal = await this.#collections.signals.findOneAndUpdate(
      { $or: [{ leaseUntil: null }, { leaseUntil: { $lte: now } }] } as Filter<OutboxSignal>,
      { $set: { leaseUntil: new Date(now.getTime() + this.#leaseMs) } },
      { sort: { _id: 1 }, returnDocument: 'after' }
    )
    if (signal === null) return false
    try {
      await this.publishAggregate(signal.aggregateId)
    } catch (error) {
      await this.#postpone(signal)
      throw error
    }
    await this.#collections.signals.deleteOne({ _id: signal._id })
    return true
  }

  /** Publishes everything pending, for tests and for a clean shutdown. */
  async drain(): Promise<number> {
    let signals = 0
    while (await this.relayOne()) signals++
    return signals
  }

  /** Publishes the aggregate's events that are not on Kafka yet, oldest first. */
  async publishAggregate(aggregateId: AggregateId): Promise<number> {
    const document = await this.#collections.aggregates.findOne({ _id: aggregateId }, { projection: { outbox: 1 } })
    const events = document?.outbox ?? []
    const progress = await this.#collections.progress.findOne({ _id: aggregateId })
    const published = progress?.published ?? 0
    if (events.length <= published) return 0
    await this.#publish(events.slice(published))
    await this.#recordProgress(aggregateId, events.length)
    this.stats.published += events.length - published
    return events.length - published
  }

  /**
   * Finds committed events whose signal never arrived: documents whose outbox changed since
   * the last pass (less an overlap for clock skew) with more events than were published.
   */
  async reconcile(): Promise<number> {
    const started = new Date()
    const watermark = await this.#collections.meta.findOne({ _id: WATERMARK_ID })
    const since = new Date((watermark?.reconciledUntil.getTime() ?? 0) - this.#reconcileOverlapMs)
    let signalled = 0
    const cursor = this.#collections.aggregates.find({ outboxUpdatedAt: { $gte: since } }, { projection: { outbox: 1 } })
    for await (const document of cursor) {
      const count = document.outbox?.length ?? 0
      if (count === 0) continue
      const progress = await this.#collections.progress.findOne({ _id: document._id })
      if ((progress?.published ?? 0) >= count) continue
      await this.#collections.signals.insertOne({ aggregateId: document._id, at: started, leaseUntil: null, attempts: 0 })
      signalled++
    }
    await this.#collections.meta.updateOne({ _id: WATERMARK_ID }, { $set: { reconciledUntil: started } }, { upsert: true })
    if (signalled > 0) this.#log.warn({ signalled }, 'outbox reconciliation found committed events without a signal')
    this.stats.reconciled += signalled
    return signalled
  }

  async #publish(events: EventRecord[]): Promise<void> {
    const producer = await this.#connectedProducer()
    // Consecutive events for the same topic travel together; order is kept across topics too.
    const batches: TopicMessages[] = []
    for (const event of events) {
      const last = batches.at(-1)
      if (last?.topic === event.topic) last.messages.push(toKafkaMessage(event))
      else batches.push({ topic: event.topic, messages: [toKafkaMessage(event)] })
    }
    for (const batch of batches) await producer.send({ ...batch, acks: -1 })
  }

  /** Progress only moves forward, whichever relay gets there first. */
  async #recordProgress(aggregateId: AggregateId, published: number): Promise<void> {
    const moved = await this.#collections.progress.updateOne({ _id: aggregateId, published: { $lt: published } }, { $set: { published } })
    if (moved.matchedCount === 1) return
    try {
      await this.#collections.progress.insertOne({ _id: aggregateId, published })
    } catch (error) {
      // Another relay recorded equal or further progress first.
      if ((error as { code?: number }).code !== 11000) throw error
    }
  }

  /** Keeps a failing signal for a while so other aggregates get their turn. */
  async #postpone(signal: WithId<OutboxSignal>): Promise<void> {
    const attempts = signal.attempts + 1
    await this.#collections.signals
      .updateOne({ _id: signal._id }, { $set: { leaseUntil: new Date(Date.now() + this.#backoff(attempts)), attempts } })
      .catch(() => {})
  }

  async #connectedProducer(): Promise<Producer> {
    if (this.#producer !== undefined) return this.#producer
    const producer = this.#kafka.producer({
      // Idempotence makes the broker drop duplicates of a retried send and, with one
      // request in flight, keeps each partition in the order we send.
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      retry: { retries: this.#sendRetries, initialRetryTime: 200, maxRetryTime: 2000 }
    })
    await producer.connect()
    this.#producer = producer
    return producer
  }

  /**
   * A failed send leaves the idempotent producer's sequence numbers in doubt; a fresh
   * producer (new producer id) starts clean and the events are simply sent again.
   */
  async #disconnect(): Promise<void> {
    const producer = this.#producer
    this.#producer = undefined
    await producer?.disconnect().catch(() => {})
  }

  #backoff(attempt: number): number {
    const exponential = this.#minBackoffMs * 2 ** Math.min(attempt - 1, 16)
    return Math.min(this.#maxBackoffMs, exponential) * (0.75 + Math.random() * 0.5)
  }

  async #idle(ms: number): Promise<void> {
    if (!this.#running) return
    if (this.#wakeRequested) {
      this.#wakeRequested = false
      return
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.#wakeUp?.(), ms)
      this.#wakeUp = () => {
        clearTimeout(timer)
        this.#wakeUp = undefined
        resolve()
      }
    })
    this.#wakeRequested = false
  }
}
