export { createKafka, type KafkaClientOptions, type KafkaConfigVariables, kafkaFromConfig } from './client.js'
export {
  EventConsumer,
  type EventConsumerOptions,
  type EventConsumerStats,
  isTransientFailure,
  PermanentEventError,
  TransientEventError
} from './consumer.js'
export {
  createEvent,
  DATA_CONTENT_TYPE,
  type DecodedEvent,
  EventDecodeError,
  type EventOptions,
  type EventRecord,
  fromKafkaMessage,
  isEvent,
  newTraceparent,
  SPEC_VERSION,
  toKafkaMessage
} from './envelope.js'
export { EVENT_CATALOG, type EventData, type EventSchema, type EventType, isEventType } from './registry.js'
