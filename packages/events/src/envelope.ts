import { randomBytes, randomUUID } from 'node:crypto'
import { create, fromJsonString, type MessageInitShape, toJsonString } from '@bufbuild/protobuf'
import type { IHeaders, KafkaMessage, Message } from 'kafkajs'
import { EVENT_CATALOG, type EventData, type EventSchema, type EventType, isEventType } from './registry.js'

export const SPEC_VERSION = '1.0'
export const DATA_CONTENT_TYPE = 'application/json'
const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/

/**
 * A CloudEvent ready to publish, in the form the outbox stores: plain strings only, so it
 * round-trips through BSON unchanged. `data` is the payload in protobuf JSON form.
 */
export interface EventRecord {
  id: string
  type: EventType
  source: string
  time: string
  topic: string
  /** Kafka key: the aggregate id, so one aggregate's events share a partition and stay in order. */
  key: string
  traceparent: string
  data: string
}

export interface EventOptions {
  /** ce_source, e.g. "/polyshop/order". */
  source: string
  /** The aggregate id. */
  key: string
  /** W3C trace context of the request that caused the event; a new trace when absent. */
  traceparent?: string
  id?: string
  time?: Date
}

/** Builds an event of a known type; the payload is checked against its proto message. */
export function createEvent<T extends EventType>(type: T, data: MessageInitShape<EventSchema<T>>, options: EventOptions): EventRecord {
  const { schema, topic } = EVENT_CATALOG[type]
  if (options.key === '') throw new TypeError('an event needs a key (its aggregate id)')
  const traceparent = options.traceparent !== undefined && TRACEPARENT.test(options.traceparent) ? options.traceparent : newTraceparent()
  return {
    id: options.id ?? randomUUID(),
    type,
    source: options.source,
    time: (options.time ?? new Date()).toISOString(),
    topic,
    key: options.key,
    traceparent,
    // create() fills defaults and rejects fields the message does not have.
    data: toJsonString(schema as EventSchema<EventType>, create(schema as EventSchema<EventType>, data as never))
  }
}

export function newTraceparent(): string {
  return `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`
}

/** CloudEvents 1.0 Kafka protocol binding, binary content mode: attributes in ce_ headers. */
export function toKafkaMessage(event: EventRecord): Message {
  return {
    key: event.key,
    value: event.data,
    headers: {
      ce_specversion: SPEC_VERSION,
      ce_id: event.id,
      ce_type: event.type,
      ce_source: event.source,
      ce_time: event.time,
      'content-type': DATA_CONTENT_TYPE,
      traceparent: event.traceparent
    }
  }
}

/** Why a Kafka message could not be read as a polyshop event; it goes to the DLQ with this reason. */
export class EventDecodeError extends Error {
  override name = 'EventDecodeError'
  constructor(
    message: string,
    readonly ceId?: string,
    options?: ErrorOptions
  ) {
    super(message, options)
  }
}

export interface DecodedEvent<T extends EventType = EventType> {
  id: string
  type: T
  source: string
  time: Date
  key: string
  traceparent: string | undefined
  data: EventData<T>
}

function header(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name]
  if (value === undefined) return undefined
  const first = Array.isArray(value) ? value[0] : value
  return first === undefined ? undefined : first.toString()
}

/**
 * Reads a consumed Kafka message back into a typed event. Throws EventDecodeError for
 * anything that is not a well-formed event of a known type (missing attributes, wrong
 * content type, payload that does not parse as its proto message). Fields unknown to this
 * version of the message are ignored, so producers can add fields first.
 */
export function fromKafkaMessage(message: Pick<KafkaMessage, 'headers' | 'value' | 'key'>): DecodedEvent {
  const id = header(message.headers, 'ce_id')
  const attributes = {
    specversion: header(message.headers, 'ce_specversion'),
    type: header(message.headers, 'ce_type'),
    source: header(message.headers, 'ce_source'),
    time: header(message.headers, 'ce_time')
  }
  for (const [name, value] of Object.entries({ id, ...attributes })) {
    if (value === undefined || value === '') throw new EventDecodeError(`missing header ce_${name}`, id)
  }
  if (attributes.specversion !== SPEC_VERSION) throw new EventDecodeError(`unsupported ce_specversion "${attributes.specversion}"`, id)
  const contentType = header(message.headers, 'content-type')
  if (contentType?.split(';')[0]?.trim().toLowerCase() !== DATA_CONTENT_TYPE) {
    throw new EventDecodeError(`unsupported content-type "${contentType ?? ''}"`, id)
  }
  const type = attributes.type as string
  if (!isEventType(type)) throw new EventDecodeError(`unknown ce_type "${type}"`, id)
  const time = new Date(attributes.time as string)
  if (Number.isNaN(time.getTime())) throw new EventDecodeError(`ce_time "${attributes.time}" is not an RFC 3339 timestamp`, id)
  if (message.value === null) throw new EventDecodeError('the message has no value', id)
  let data: EventData<EventType>
  try {
    data = fromJsonString(EVENT_CATALOG[type].schema as EventSchema<EventType>, message.value.toString('utf8'), {
      ignoreUnknownFields: true
    })
  } catch (error) {
    throw new EventDecodeError(`the value is not a valid ${EVENT_CATALOG[type].schema.typeName}: ${(error as Error).message}`, id, {
      cause: error
    })
  }
  return {
    id: id as string,
    type,
    source: attributes.source as string,
    time,
    key: message.key?.toString('utf8') ?? '',
    traceparent: header(message.headers, 'traceparent'),
    data
  }
}

/** Narrows a decoded event to one type. */
export function isEvent<T extends EventType>(event: DecodedEvent, type: T): event is DecodedEvent<T> {
  return event.type === type
}
