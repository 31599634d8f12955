import type { HandlerContext, ServiceImpl } from '@connectrpc/connect'
import { Code, ConnectError, createContextKey } from '@connectrpc/connect'
import type { Identity } from '@polyshop/auth'
import type { OrderService } from '@polyshop/proto'
import { statusFromProto, toProtoOrder } from '../domain/order-document.js'
import type { Orders } from '../domain/orders.js'

/** Set by the authentication interceptor for OrderService calls. */
export const identityKey = createContextKey<Identity | undefined>(undefined)

function caller(context: HandlerContext): Identity {
  const identity = context.values.get(identityKey)
  if (identity === undefined) throw new ConnectError('sign in first', Code.Unauthenticated)
  return identity
}

function traceparent(context: HandlerContext): string | undefined {
  return context.requestHeader.get('traceparent') ?? undefined
}

/** shop.order.v1.OrderService over the Orders domain. */
export function orderService(orders: Orders): ServiceImpl<typeof OrderService> {
  return {
    async createOrder(request, context) {
      const order = await orders.create(
        caller(context),
        { items: request.items, shippingAddress: request.shippingAddress, idempotencyKey: request.idempotencyKey },
        traceparent(context)
      )
      return { order: toProtoOrder(order) }
    },
    async getOrder(request, context) {
      return { order: toProtoOrder(await orders.get(caller(context), request.orderId)) }
    },
    async listOrders(request, context) {
      const page = await orders.list(caller(context), request)
      return { orders: page.orders.map(toProtoOrder), nextPageToken: page.nextPageToken }
    },
    async cancelOrder(request, context) {
      return { order: toProtoOrder(await orders.cancel(caller(context), request.orderId, request.reason, traceparent(context))) }
    },
    async updateOrderStatus(request, context) {
      const status = statusFromProto(request.status)
      if (status !== 'PAID' && status !== 'SHIPPED' && status !== 'DELIVERED') {
        throw new ConnectError('status must be PAID, SHIPPED or DELIVERED', Code.InvalidArgument)
      }
      return { order: toProtoOrder(await orders.updateStatus(caller(context), request.orderId, status, traceparent(context))) }
    }
  }
}
