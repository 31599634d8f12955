import { create } from '@bufbuild/protobuf'
import { timestampFromDate } from '@bufbuild/protobuf/wkt'
import type { OutboxFields } from '@polyshop/outbox'
import { type Order, OrderSchema, OrderStatus } from '@polyshop/proto'

export type Status = 'PENDING' | 'CONFIRMED' | 'PAID' | 'SHIPPED' | 'DELIVERED' | 'CANCELLED'

export interface Money {
  amount: number
  currency: string
}

export interface Address {
  name: string
  line1: string
  line2?: string
  city: string
  postalCode: string
  country: string
}

export interface OrderItem {
  productId: string
  name: string
  quantity: number
  unitPrice: Money
}

export interface OrderDocument extends OutboxFields {
  _id: string
  userId: string
  idempotencyKey: string
  status: Status
  items: OrderItem[]
  total: Money
  shippingAddress: Address
  /** Stock of a cancelled order still to be given back (the product service was unreachable). */
  stockReleasePending?: boolean
  createdAt: Date
  updatedAt: Date
}

export const STATUS_TO_PROTO: Record<Status, OrderStatus> = {
  PENDING: OrderStatus.PENDING,
  CONFIRMED: OrderStatus.CONFIRMED,
  PAID: OrderStatus.PAID,
  SHIPPED: OrderStatus.SHIPPED,
  DELIVERED: OrderStatus.DELIVERED,
  CANCELLED: OrderStatus.CANCELLED
}

export function statusFromProto(status: OrderStatus): Status | undefined {
  return (Object.entries(STATUS_TO_PROTO) as Array<[Status, OrderStatus]>).find(([, value]) => value === status)?.[0]
}

export function moneyToProto(money: Money) {
  return { amount: BigInt(money.amount), currency: money.currency }
}

export function toProtoOrder(order: OrderDocument): Order {
  return create(OrderSchema, {
    id: order._id,
    userId: order.userId,
    status: STATUS_TO_PROTO[order.status],
    items: order.items.map((item) => ({
      productId: item.productId,
      name: item.name,
      quantity: item.quantity,
      unitPrice: moneyToProto(item.unitPrice)
    })),
    total: moneyToProto(order.total),
    shippingAddress: order.shippingAddress,
    createdAt: timestampFromDate(order.createdAt),
    updatedAt: timestampFromDate(order.updatedAt)
  })
}
