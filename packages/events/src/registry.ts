import type { DescMessage, MessageShape } from '@bufbuild/protobuf'
import {
  OrderCancelledSchema,
  OrderCreatedSchema,
  OrderStatusChangedSchema,
  UserProfileUpdatedSchema,
  UserRegisteredSchema
} from '@polyshop/proto'

/** Every event polyshop publishes: its CloudEvents type, payload message and topic. */
export const EVENT_CATALOG = {
  'shop.user.registered.v1': { schema: UserRegisteredSchema, topic: 'user.events' },
  'shop.user.profile_updated.v1': { schema: UserProfileUpdatedSchema, topic: 'user.events' },
  'shop.order.created.v1': { schema: OrderCreatedSchema, topic: 'order.events' },
  'shop.order.cancelled.v1': { schema: OrderCancelledSchema, topic: 'order.events' },
  'shop.order.status_changed.v1': { schema: OrderStatusChangedSchema, topic: 'order.events' }
} as const satisfies Record<string, { schema: DescMessage; topic: string }>

export type EventType = keyof typeof EVENT_CATALOG
export type EventSchema<T extends EventType> = (typeof EVENT_CATALOG)[T]['schema']
export type EventData<T extends EventType> = MessageShape<EventSchema<T>>

export function isEventType(type: string): type is EventType {
  return Object.hasOwn(EVENT_CATALOG, type)
}
