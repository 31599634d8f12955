import type { Collection, Db, Document, ObjectId } from 'mongodb'
import type { OutboxFields } from './fields.js'

export type AggregateId = string | ObjectId
export type OutboxDocument = Document & OutboxFields & { _id: AggregateId }

/** "Aggregate X has new events": written after each commit, deleted once they are on Kafka. */
export interface OutboxSignal {
  aggregateId: AggregateId
  at: Date
  leaseUntil: Date | null
  /** The claim that holds the lease (a random token per claim). */
  leaseOwner?: string
  attempts: number
}

/** How many of an aggregate's events are on Kafka; written only by relays. */
export interface OutboxProgress {
  _id: AggregateId
  published: number
  /** ce_id of the last event published: where to resume if the array was ever rewritten. */
  lastId?: string
}

/** Where the relay's reconciliation got to. */
export interface OutboxWatermark {
  _id: string
  reconciledUntil: Date
}

export interface OutboxCollections {
  aggregates: Collection<OutboxDocument>
  signals: Collection<OutboxSignal>
  progress: Collection<OutboxProgress>
  meta: Collection<OutboxWatermark>
}

/** The relay's bookkeeping lives beside the aggregate collection, never inside it. */
export function outboxCollections(db: Db, collection: string): OutboxCollections {
  return {
    aggregates: db.collection<OutboxDocument>(collection),
    signals: db.collection<OutboxSignal>(`${collection}_outbox_signals`),
    progress: db.collection<OutboxProgress>(`${collection}_outbox_progress`),
    meta: db.collection<OutboxWatermark>(`${collection}_outbox_meta`)
  }
}
