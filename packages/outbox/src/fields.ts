import type { EventRecord } from '@polyshop/events'
import type { Document, UpdateFilter } from 'mongodb'

/**
 * The fields an aggregate document carries to be its own outbox. A single-document write
 * is the only atomic write MongoDB and FerretDB share, so the state change and the events it
 * causes are committed by the same write: one never exists without the other.
 *
 * Only the service's writers ever write these documents; the relay reads them and keeps its
 * progress elsewhere. That matters on FerretDB v1, whose updates are read-modify-write
 * (a concurrent update of the same document can be lost), so a relay that wrote here could
 * erase a business change.
 *
 * `outbox` keeps the aggregate's events for its life, oldest first (an audit trail too): fine
 * for aggregates with a bounded number of events (users, orders), not for unbounded streams.
 */
export interface OutboxFields {
  outbox?: EventRecord[]
  /** When events were last appended; the relay's reconciliation scans by it. */
  outboxUpdatedAt?: Date
}

/** The outbox fields of a new aggregate with its first events. */
export function outboxForInsert(events: EventRecord[], now = new Date()): Required<OutboxFields> {
  return { outbox: [...events], outboxUpdatedAt: now }
}

/** Merges "append these events" into an update, keeping the caller's own operators. */
export function withOutbox<T extends Document>(update: UpdateFilter<T>, events: EventRecord[], now = new Date()): UpdateFilter<T> {
  if (events.length === 0) return update
  const merged = { ...update } as Record<string, Record<string, unknown> | undefined>
  merged.$push = { ...merged.$push, outbox: { $each: events } }
  merged.$set = { ...merged.$set, outboxUpdatedAt: now }
  return merged as UpdateFilter<T>
}

/** Leaves the outbox out of reads that serve clients. */
export const OUTBOX_PROJECTION_EXCLUDE = { outbox: 0, outboxUpdatedAt: 0 } as const
