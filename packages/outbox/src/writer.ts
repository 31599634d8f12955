import type { EventRecord } from '@polyshop/events'
import type {
  Collection,
  Db,
  Filter,
  FindOneAndUpdateOptions,
  InsertOneResult,
  OptionalUnlessRequiredId,
  UpdateFilter,
  UpdateResult,
  WithId
} from 'mongodb'
import type { Logger } from 'pino'
import { type AggregateId, type OutboxCollections, type OutboxDocument, outboxCollections } from './collections.js'
import { outboxForInsert, withOutbox } from './fields.js'

export interface OutboxWriterOptions {
  db: Db
  /** The aggregate collection, e.g. "orders". */
  collection: string
  logger: Logger
  /** Called after every commit that added events: pass the relay's wake(). */
  onCommit?: () => void
}

/**
 * Writes aggregates together with the events they cause. Each method makes one atomic
 * document write (state + events), then records a signal so the relay publishes promptly.
 * If the process dies between the two, the relay's reconciliation finds the events anyway.
 */
export class OutboxWriter<T extends OutboxDocument> {
  readonly #collections: OutboxCollections
  readonly #log: Logger
  readonly #onCommit: (() => void) | undefined

  constructor(options: OutboxWriterOptions) {
    this.#collections = outboxCollections(options.db, options.collection)
    this.#log = options.logger
    this.#onCommit = options.onCommit
  }

  /** The aggregate collection, for reads and for writes that add no events. */
  get collection(): Collection<T> {
    return this.#collections.aggregates as unknown as Collection<T>
  }

  async insertOne(document: OptionalUnlessRequiredId<T>, events: EventRecord[]): Promise<InsertOneResult<T>> {
    const result = await this.collection.insertOne({ ...document, ...outboxForInsert(events) } as OptionalUnlessRequiredId<T>)
    if (events.length > 0) await this.#signal(result.insertedId as AggregateId)
    return result
  }

  async updateOne(filter: Filter<T>, update: UpdateFilter<T>, events: EventRecord[], aggregateId: AggregateId): Promise<UpdateResult<T>> {
    const result = await this.collection.updateOne(filter, withOutbox(update, events))
    if (events.length > 0 && result.matchedCount > 0) await this.#signal(aggregateId)
    return result
  }

  async findOneAndUpdate(
    filter: Filter<T>,
    update: UpdateFilter<T>,
    events: EventRecord[],
    options: FindOneAndUpdateOptions = {}
  ): Promise<WithId<T> | null> {
    const document = await this.collection.findOneAndUpdate(filter, withOutbox(update, events), {
      returnDocument: 'after',
      ...options,
      includeResultMetadata: false
    })
    if (document !== null && events.length > 0) await this.#signal(document._id as AggregateId)
    return document
  }

  /**
   * The events are committed already; failing to signal only delays them until the relay's
   * next reconciliation, so it is logged, never thrown at a caller whose write succeeded.
   */
  async #signal(aggregateId: AggregateId): Promise<void> {
    try {
      await this.#collections.signals.insertOne({ aggregateId, at: new Date(), leaseUntil: null, attempts: 0 })
    } catch (error) {
      this.#log.warn({ err: error, aggregateId: String(aggregateId) }, 'outbox signal not written; reconciliation will publish the events')
    }
    this.#onCommit?.()
  }
}
