import { type EventRecord, toKafkaMessage } from '@polyshop/events'
import { type Kafka, Partitioners, type Producer, type TopicMessages } from 'kafkajs'
import type { Db, Filter, WithId } from 'mongodb'
import type { Logger } from 'pino'
import { type AggregateId, type OutboxCollections, type OutboxProgress, type OutboxSignal, outboxCollections } from './collections.js'

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
  #producer: Promise<Producer> | undefined
  #running = false
  #loop: Promise<void> | undefined
  #sleeper: { wakeable: boolean; resolve: () => void } | undefined
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
    if (this.#sleeper?.wakeable === true) this.#sleeper.resolve()
  }

  /** Finishes the aggregate in hand, then stops and disconnects the producer. */
  async stop(): Promise<void> {
    this.#running = false
    this.#sleeper?.resolve()
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
        await this.#idle(this.#backoff(this.#consecutiveFailures), false)
        continue
      }
      if (!worked) await this.#idle(this.#pollIntervalMs, true)
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
      await this.#postpone(signal, Date.now() - now.getTime())
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
    if (document === null) {
      // A signal with an id of the wrong type, or an aggregate deleted before publication.
      this.#log.error({ aggregateId: String(aggregateId) }, 'outbox signal names no existing aggregate; nothing to publish')
      return 0
    }
    const events = document.outbox ?? []
    const start = this.#resumePosition(aggregateId, events, await this.#collections.progress.findOne({ _id: aggregateId }))
    const last = events.at(-1)
    if (start >= events.length || last === undefined) return 0
    await this.#publish(events.slice(start))
    await this.#recordProgress(aggregateId, events.length, last.id)
    this.stats.published += events.length - start
    return events.length - start
  }

  /**
   * Where publication resumes: after the last event known to be on Kafka. Found by its id,
   * not only by count, so an outbox array that was rewritten underneath (a lost update on
   * FerretDB) is noticed instead of silently skipping events.
   */
  #resumePosition(aggregateId: AggregateId, events: EventRecord[], progress: OutboxProgress | null): number {
    if (progress === null) return 0
    if (progress.lastId === undefined) return progress.published
    const index = events.findIndex((event) => event.id === progress.lastId)
    if (index + 1 === progress.published) return progress.published
    this.#log.error(
      { aggregateId: String(aggregateId), published: progress.published, foundAt: index },
      'the outbox array changed under the relay; resuming after the last published event where it can be found'
    )
    return index >= 0 ? index + 1 : progress.published
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
  async #recordProgress(aggregateId: AggregateId, published: number, lastId: string): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const moved = await this.#collections.progress.updateOne(
        { _id: aggregateId, published: { $lt: published } },
        { $set: { published, lastId } }
      )
      if (moved.matchedCount === 1) return
      const existing = await this.#collections.progress.findOne({ _id: aggregateId })
      if (existing !== null) return // equal or further progress is recorded already
      try {
        await this.#collections.progress.insertOne({ _id: aggregateId, published, lastId })
        return
      } catch (error) {
        // Another relay inserted first: go round and move it forward if we are further.
        if ((error as { code?: number }).code !== 11000) throw error
      }
    }
  }

  /**
   * Keeps a failing signal for a while so other aggregates get their turn: at least as long as
   * the failed attempt took, or a slow failure would always be free again before the others.
   */
  async #postpone(signal: WithId<OutboxSignal>, tookMs: number): Promise<void> {
    const attempts = signal.attempts + 1
    await this.#collections.signals
      .updateOne({ _id: signal._id }, { $set: { leaseUntil: new Date(Date.now() + this.#backoff(attempts) + 2 * tookMs), attempts } })
      .catch((error: unknown) => this.#log.warn({ err: error }, 'could not postpone a failing outbox signal; its lease expires on its own'))
  }

  /** One producer, shared by concurrent callers (the loop and drain()). */
  #connectedProducer(): Promise<Producer> {
    this.#producer ??= (async () => {
      const producer = this.#kafka.producer({
        // Idempotence makes the broker drop duplicates of a retried send and, with one
        // request in flight, keeps each partition in the order we send.
        idempotent: true,
        maxInFlightRequests: 1,
        // The Java client's partitioner: the same key lands on the same partition as from any other client.
        createPartitioner: Partitioners.DefaultPartitioner,
        allowAutoTopicCreation: false,
        retry: { retries: this.#sendRetries, initialRetryTime: 200, maxRetryTime: 2000 }
      })
      await producer.connect()
      return producer
    })()
    const pending = this.#producer
    pending.catch(() => {
      if (this.#producer === pending) this.#producer = undefined
    })
    return pending
  }

  /**
   * A failed send leaves the idempotent producer's sequence numbers in doubt; a fresh
   * producer (new producer id) starts clean and the events are simply sent again.
   */
  async #disconnect(): Promise<void> {
    const producer = this.#producer
    this.#producer = undefined
    await producer?.then((connected) => connected.disconnect()).catch(() => {})
  }

  #backoff(attempt: number): number {
    const exponential = this.#minBackoffMs * 2 ** Math.min(attempt - 1, 16)
    return Math.min(this.#maxBackoffMs, exponential) * (0.75 + Math.random() * 0.5)
  }

  /**
   * Sleeps; stop() always ends the sleep, wake() only when `wakeable` — a back-off after a
   * failure is not cut short by new writes, or a Kafka outage would turn every write into
   * an immediate retry.
   */
  async #idle(ms: number, wakeable: boolean): Promise<void> {
    if (!this.#running) return
    if (wakeable && this.#wakeRequested) {
      this.#wakeRequested = false
      return
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms)
      const sleeper = { wakeable, resolve: done }
      this.#sleeper = sleeper
      function done() {
        clearTimeout(timer)
        resolve()
      }
    })
    this.#sleeper = undefined
    if (wakeable) this.#wakeRequested = false
  }
}
