import { randomUUID } from 'node:crypto'
import { type EventRecord, toKafkaMessage } from '@polyshop/events'
import { type Kafka, Partitioners, type Producer, type TopicMessages } from 'kafkajs'
import type { Db, Filter, WithId } from 'mongodb'
import type { Logger } from 'pino'
import {
  type AggregateId,
  type OutboxCollections,
  type OutboxDocument,
  type OutboxProgress,
  type OutboxSignal,
  outboxCollections
} from './collections.js'

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
  /** Most signals taken and published together, in one Kafka request per topic (1: one aggregate at a time). */
  batchSize?: number
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

/** An aggregate's events not yet on Kafka, and the progress to record once they are. */
interface PendingWork {
  aggregateId: AggregateId
  events: EventRecord[]
  published: number
  lastId: string
  /** No progress was recorded for this aggregate when its events were read. */
  firstProgress: boolean
}
/**
 * The most database operations one relay has in flight: enough to overlap round trips, few
 * enough to leave the service's connection pool (MONGODB_MAX_POOL_SIZE) to its requests.
 */
const CONCURRENCY = 8

/** Runs `fn` over the items, at most CONCURRENCY at a time; results in the items' order. */
async function inParallel<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const index = next++
      results[index] = await fn(items[index] as T)
    }
  }
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker))
  return results
}

/** The signals claimed for one aggregate. */
interface SignalGroup {
  aggregateId: AggregateId
  signals: Array<WithId<OutboxSignal>>
}

/**
 * Publishes the events that aggregate documents carry in their `outbox` field to Kafka.
 *
 * - Complete: writers record a signal after each commit; the relay also reconciles, scanning
 *   documents whose outbox changed since its last pass, so events whose signal was lost
 *   (a crash between commit and signal) are published too. Reconciliation runs beside the
 *   publishing loop, never in it: a pass over minutes of busy writes must not delay fresh events.
 * - In order per aggregate: an aggregate's events are published in the order written, from
 *   where the last publication stopped, through an idempotent producer with one request in
 *   flight; the Kafka key is the aggregate id, so they share a partition.
 * - Batched: up to `batchSize` signals are taken at once and their aggregates' events go out
 *   in one request per topic, so the relay keeps up with many writers (one MongoDB round trip
 *   and one Kafka round trip per aggregate would cap it at a few dozen aggregates a second).
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
  readonly #batchSize: number
  readonly #reconcileIntervalMs: number
  readonly #reconcileOverlapMs: number
  #producer: Promise<Producer> | undefined
  #running = false
  #loop: Promise<void> | undefined
  #sleeper: { wakeable: boolean; resolve: () => void } | undefined
  #wakeRequested = false
  #consecutiveFailures = 0
  #nextReconcile = 0
  #reconcileFailures = 0
  #reconciling: Promise<void> | undefined
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
    this.#batchSize = Math.max(1, options.batchSize ?? 50)
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
    await Promise.all([this.#loop, this.#reconciling])
    this.#loop = undefined
    await this.#disconnect()
  }

  async #run(): Promise<void> {
    while (this.#running) {
      let worked = false
      this.#reconcileWhenDue()
      try {
        worked = (await this.relayBatch()) > 0
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
   * the signal. Resolves false when there was nothing to do. Public for tests.
   */
  async relayOne(): Promise<boolean> {
    return (await this.#relay(1)) > 0
  }

  /**
   * Takes up to `batchSize` free signals, oldest first, publishes their aggregates' unpublished
   * events together, and deletes the signals. Resolves to the number of signals handled (0:
   * nothing to do).
   */
  relayBatch(): Promise<number> {
    return this.#relay(this.#batchSize)
  }

  /** Publishes everything pending, for tests and for a clean shutdown; resolves to the number of signals handled. */
  async drain(): Promise<number> {
    let signals = 0
    for (let handled = await this.relayBatch(); handled > 0; handled = await this.relayBatch()) signals += handled
    return signals
  }

  async #relay(most: number): Promise<number> {
    const started = Date.now()
    const claimed = await this.#claim(most)
    if (claimed.length === 0) return 0
    // Several signals of one aggregate (an order created, then cancelled) are one publication.
    const groups = new Map<string, SignalGroup>()
    for (const signal of claimed) {
      const key = `${typeof signal.aggregateId}:${String(signal.aggregateId)}`
      const group = groups.get(key) ?? { aggregateId: signal.aggregateId, signals: [] }
      group.signals.push(signal)
      groups.set(key, group)
    }
    // An aggregate that failed before goes on its own, so it cannot fail a batch again.
    const suspects = [...groups.values()].filter((group) => group.signals.some((signal) => signal.attempts > 0))
    const fresh = [...groups.values()].filter((group) => !suspects.includes(group))
    let alone = suspects
    if (fresh.length > 0) {
      try {
        await this.#publishAggregates(fresh.map((group) => group.aggregateId))
        await this.#done(fresh)
      } catch (error) {
        await this.#disconnect()
        if (fresh.length === 1 && suspects.length === 0) {
          await this.#postponeAll(claimed, started)
          throw error
        }
        // One aggregate that cannot be published (a missing topic, a message too large) must not
        // hold up the others: each on its own, with a fresh producer.
        this.#log.warn({ err: error, aggregates: fresh.length }, 'an outbox batch failed; publishing its aggregates one at a time')
        alone = [...fresh, ...suspects]
      }
    }
    await this.#oneAtATime(alone)
    return claimed.length
  }

  /** The unpublished events of these aggregates, in one Kafka request per topic, then their progress; resolves to how many events went out. */
  async #publishAggregates(aggregateIds: AggregateId[]): Promise<number> {
    const pending = (await inParallel(aggregateIds, (id) => this.#pending(id))).filter((work) => work !== undefined)
    if (pending.length === 0) return 0
    let acknowledged = 0
    try {
      await this.#publish(
        pending.flatMap((work) => work.events),
        (count) => {
          acknowledged += count
        }
      )
    } catch (error) {
      // Aggregates whose events all went out before the failure keep that progress: sent again they would only be duplicates.
      let sent = 0
      const done = pending.filter((work) => {
        sent += work.events.length
        return sent <= acknowledged
      })
      await inParallel(done, (work) => this.#recordProgress(work).catch(() => {}))
      for (const work of done) this.stats.published += work.events.length
      throw error
    }
    await inParallel(pending, (work) => this.#recordProgress(work))
    const events = pending.reduce((sum, work) => sum + work.events.length, 0)
    this.stats.published += events
    return events
  }

  /** Drops the signals of aggregates whose events are on Kafka. */
  async #done(groups: SignalGroup[]): Promise<void> {
    await this.#collections.signals.deleteMany({ _id: { $in: groups.flatMap((group) => group.signals.map((signal) => signal._id)) } })
  }

  /**
   * Aggregates one at a time (those that failed before, or all of a failed batch). Signals of
   * those published are deleted; a failing one is postponed, counted and logged, and the others
   * go on: one bad aggregate must not stall the relay. Two failures in a row point at the broker:
   * the rest are released untried (no attempt counted) and the failure is rethrown, so the loop
   * backs off.
   */
  async #oneAtATime(groups: SignalGroup[]): Promise<void> {
    let failuresInARow = 0
    for (const [index, group] of groups.entries()) {
      const started = Date.now()
      try {
        await this.#publishAggregates([group.aggregateId])
        await this.#done([group])
        failuresInARow = 0
      } catch (error) {
        failuresInARow++
        await this.#disconnect()
        await this.#postponeAll(group.signals, started)
        if (failuresInARow >= 2) {
          const untried = groups.slice(index + 1).flatMap((other) => other.signals.map((signal) => signal._id))
          if (untried.length > 0) await this.#collections.signals.updateMany({ _id: { $in: untried } }, { $set: { leaseUntil: null } })
          throw error
        }
        this.stats.failures++
        this.stats.lastError = (error as Error).message
        this.#log.warn({ err: error, aggregateId: String(group.aggregateId) }, 'outbox relay could not publish; will retry')
      }
    }
  }

  /**
   * Up to `most` of the oldest signals nobody holds, now leased to this relay: three round trips
   * whatever the number. Each lease is taken by a conditional update carrying a fresh token and
   * read back by that token. On MongoDB the update is atomic per signal, so two relays never hold
   * one signal; FerretDB v1 checks the condition before it writes, so there two relays racing
   * can both hold one and publish its events twice (consumers drop the copy by ce_id). A relay
   * that lost the race for every candidate tries the next ones at once instead of sleeping.
   */
  async #claim(most: number): Promise<Array<WithId<OutboxSignal>>> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const now = new Date()
      const free = { $or: [{ leaseUntil: null }, { leaseUntil: { $lte: now } }] } as Filter<OutboxSignal>
      const candidates = await this.#collections.signals
        .find(free, { projection: { _id: 1 } })
        .sort({ _id: 1 })
        .limit(most)
        .toArray()
      if (candidates.length === 0) return []
      const ids = candidates.map((signal) => signal._id)
      const owner = randomUUID()
      await this.#collections.signals.updateMany({ _id: { $in: ids }, ...free } as Filter<OutboxSignal>, {
        $set: { leaseUntil: new Date(now.getTime() + this.#leaseMs), leaseOwner: owner }
      })
      const claimed = await this.#collections.signals
        .find({ _id: { $in: ids }, leaseOwner: owner })
        .sort({ _id: 1 })
        .toArray()
      if (claimed.length > 0) return claimed
    }
    return []
  }

  /** The aggregate's events not yet on Kafka, and the progress to record once they are. */
  async #pending(aggregateId: AggregateId): Promise<PendingWork | undefined> {
    const read = () => this.#collections.aggregates.findOne({ _id: aggregateId }, { projection: { outbox: 1 } })
    const [progress, first] = await Promise.all([this.#collections.progress.findOne({ _id: aggregateId }), read()])
    // Read together, progress may be newer than the document (another relay published events
    // written in between): read the document again, now certainly after the progress, before
    // concluding that its outbox array was rewritten.
    const lastIdMissing =
      progress?.lastId !== undefined && first !== null && !(first.outbox ?? []).some((event) => event.id === progress.lastId)
    const document = lastIdMissing ? await read() : first
    if (document === null) {
      // A signal with an id of the wrong type, or an aggregate deleted before publication.
      this.#log.error({ aggregateId: String(aggregateId) }, 'outbox signal names no existing aggregate; nothing to publish')
      return undefined
    }
    const events = document.outbox ?? []
    const start = this.#resumePosition(aggregateId, events, progress)
    const last = events.at(-1)
    if (start >= events.length || last === undefined) return undefined
    return { aggregateId, events: events.slice(start), published: events.length, lastId: last.id, firstProgress: progress === null }
  }

  /** Publishes the aggregate's events that are not on Kafka yet, oldest first. */
  publishAggregate(aggregateId: AggregateId): Promise<number> {
    return this.#publishAggregates([aggregateId])
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

  /** Starts a reconciliation pass beside the loop when one is due and none is running. */
  #reconcileWhenDue(): void {
    if (this.#reconciling !== undefined || Date.now() < this.#nextReconcile) return
    this.#reconciling = this.#reconcile(() => this.#running)
      .then((signalled) => {
        this.#reconcileFailures = 0
        this.#nextReconcile = Date.now() + this.#reconcileIntervalMs
        if (signalled > 0) this.wake()
      })
      .catch((error: unknown) => {
        this.#reconcileFailures++
        this.#nextReconcile = Date.now() + this.#backoff(this.#reconcileFailures)
        this.#log.warn({ err: error, attempt: this.#reconcileFailures }, 'outbox reconciliation failed; will retry')
      })
      .finally(() => {
        this.#reconciling = undefined
      })
  }

  /**
   * Finds committed events whose signal never arrived: documents whose outbox changed since
   * the last pass (less an overlap for clock skew) with more events than were published.
   */
  reconcile(): Promise<number> {
    return this.#reconcile(() => true)
  }

  async #reconcile(proceed: () => boolean): Promise<number> {
    const started = new Date()
    const watermark = await this.#collections.meta.findOne({ _id: WATERMARK_ID })
    const since = new Date((watermark?.reconciledUntil.getTime() ?? 0) - this.#reconcileOverlapMs)
    let signalled = 0
    const check = async (chunk: OutboxDocument[]) => {
      const behind = await Promise.all(
        chunk.map(async (document) => {
          const progress = await this.#collections.progress.findOne({ _id: document._id })
          return (progress?.published ?? 0) < (document.outbox?.length ?? 0)
        })
      )
      const orphans = chunk.filter((_, index) => behind[index])
      if (orphans.length === 0) return
      await this.#collections.signals.insertMany(
        orphans.map((document) => ({ aggregateId: document._id, at: started, leaseUntil: null, attempts: 0 }))
      )
      signalled += orphans.length
      this.stats.reconciled += orphans.length
    }
    const cursor = this.#collections.aggregates.find({ outboxUpdatedAt: { $gte: since } }, { projection: { outbox: 1 } })
    let chunk: OutboxDocument[] = []
    for await (const document of cursor) {
      // Stopping mid-pass leaves the watermark where it was: the next pass covers this one.
      if (!proceed()) {
        await cursor.close()
        return signalled
      }
      if ((document.outbox?.length ?? 0) === 0) continue
      chunk.push(document)
      if (chunk.length < CONCURRENCY) continue
      await check(chunk)
      chunk = []
    }
    await check(chunk)
    await this.#collections.meta.updateOne({ _id: WATERMARK_ID }, { $set: { reconciledUntil: started } }, { upsert: true })
    if (signalled > 0) this.#log.warn({ signalled }, 'outbox reconciliation found committed events without a signal')
    return signalled
  }

  /** Sends the events in order; `acknowledged` hears how many are on Kafka so far. */
  async #publish(events: EventRecord[], acknowledged: (count: number) => void = () => {}): Promise<void> {
    const producer = await this.#connectedProducer()
    // Consecutive events for the same topic travel together; order is kept across topics too.
    const batches: TopicMessages[] = []
    for (const event of events) {
      const last = batches.at(-1)
      if (last?.topic === event.topic) last.messages.push(toKafkaMessage(event))
      else batches.push({ topic: event.topic, messages: [toKafkaMessage(event)] })
    }
    for (const batch of batches) {
      await producer.send({ ...batch, acks: -1 })
      acknowledged(batch.messages.length)
    }
  }

  /**
   * Progress only moves forward, whichever relay gets there first. An aggregate's first progress
   * is an insert: the conditional upsert it replaces took 51 ms on FerretDB v1 with 3,000
   * aggregates (growing with the collection, which gains a document per aggregate ever
   * published) against 1 ms for the insert. A duplicate key (another relay was first), and every
   * later progress, is an update that matches only lesser progress.
   */
  async #recordProgress(work: PendingWork): Promise<void> {
    const progress = { published: work.published, lastId: work.lastId }
    if (work.firstProgress) {
      try {
        await this.#collections.progress.insertOne({ _id: work.aggregateId, ...progress })
        return
      } catch (error) {
        if ((error as { code?: number }).code !== 11000) throw error
      }
    }
    await this.#collections.progress.updateOne({ _id: work.aggregateId, published: { $lt: work.published } }, { $set: progress })
  }

  #postponeAll(signals: Array<WithId<OutboxSignal>>, started: number): Promise<unknown> {
    const tookMs = Date.now() - started
    return Promise.all(signals.map((signal) => this.#postpone(signal, tookMs)))
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
