export type { AggregateId, OutboxDocument, OutboxProgress, OutboxSignal } from './collections.js'
export { OUTBOX_PROJECTION_EXCLUDE, type OutboxFields, outboxForInsert, withOutbox } from './fields.js'
export { OutboxRelay, type OutboxRelayOptions, type OutboxRelayStats } from './relay.js'
export { OutboxWriter, type OutboxWriterOptions } from './writer.js'
