import { timestampDate } from '@bufbuild/protobuf/wkt'
import { type CallOptions, type Client, createClient, type Transport } from '@connectrpc/connect'
import type { CreateOrderBody, MoneySchema, OrderPageSchema, OrderSchema, OrderStatusName } from '@polyshop/api'
import type { ForwardedHeaders } from '@polyshop/downstream'
import { OrderService, OrderStatus, type Order as ProtoOrder } from '@polyshop/proto'
import type { Static } from 'typebox'
import { problemFromOrderError } from '../errors.js'

/** An order as REST and GraphQL show it (the public contract's schema): money as plain numbers, times as RFC 3339. */
export type Order = Static<typeof OrderSchema>
export type OrderPage = Static<typeof OrderPageSchema>
export type PlaceOrderInput = Static<typeof CreateOrderBody>
type Money = Static<typeof MoneySchema>

function money(value: { amount: bigint; currency: string } | undefined): Money {
  return { amount: Number(value?.amount ?? 0n), currency: value?.currency ?? '' }
}

function statusName(status: OrderStatus): OrderStatusName {
  const name = OrderStatus[status]
  if (name === undefined || name === 'UNSPECIFIED') throw new Error(`the order service sent an unknown status ${status}`)
  return name as OrderStatusName
}

function fromProto(order: ProtoOrder | undefined): Order {
  if (order === undefined) throw new Error('the order service answered without an order')
  const address = order.shippingAddress
  return {
    id: order.id,
    userId: order.userId,
    status: statusName(order.status),
    items: order.items.map((item) => ({
      productId: item.productId,
      name: item.name,
      quantity: item.quantity,
      unitPrice: money(item.unitPrice)
    })),
    total: money(order.total),
    shippingAddress: {
      name: address?.name ?? '',
      line1: address?.line1 ?? '',
      ...(address?.line2 === undefined || address.line2 === '' ? {} : { line2: address.line2 }),
      city: address?.city ?? '',
      postalCode: address?.postalCode ?? '',
      country: address?.country ?? ''
    },
    createdAt: order.createdAt === undefined ? '' : timestampDate(order.createdAt).toISOString(),
    updatedAt: order.updatedAt === undefined ? '' : timestampDate(order.updatedAt).toISOString()
  }
}

/**
 * shop.order.v1.OrderService for REST and GraphQL: JSON in, JSON out. Each call forwards the
 * caller's access token (the order service verifies it itself), the request id and the trace,
 * carries a deadline, and fails as a problem from the one gRPC → HTTP table.
 */
export class OrderClient {
  readonly #client: Client<typeof OrderService>
  readonly #timeoutMs: number

  constructor(transport: Transport, timeoutMs: number) {
    this.#client = createClient(OrderService, transport)
    this.#timeoutMs = timeoutMs
  }

  async place(input: PlaceOrderInput, idempotencyKey: string, headers: ForwardedHeaders): Promise<Order> {
    return this.#call(async (options) => fromProto((await this.#client.createOrder({ ...input, idempotencyKey }, options)).order), headers)
  }

  async get(orderId: string, headers: ForwardedHeaders): Promise<Order> {
    return this.#call(async (options) => fromProto((await this.#client.getOrder({ orderId }, options)).order), headers)
  }

  async list(
    page: { limit?: number | undefined; cursor?: string | undefined; allUsers?: boolean | undefined },
    headers: ForwardedHeaders
  ): Promise<OrderPage> {
    return this.#call(async (options) => {
      const response = await this.#client.listOrders(
        { pageSize: page.limit ?? 0, pageToken: page.cursor ?? '', allUsers: page.allUsers === true },
        options
      )
      return { items: response.orders.map(fromProto), nextCursor: response.nextPageToken === '' ? null : response.nextPageToken }
    }, headers)
  }

  async cancel(orderId: string, reason: string, headers: ForwardedHeaders): Promise<Order> {
    return this.#call(async (options) => fromProto((await this.#client.cancelOrder({ orderId, reason }, options)).order), headers)
  }

  async updateStatus(orderId: string, status: 'PAID' | 'SHIPPED' | 'DELIVERED', headers: ForwardedHeaders): Promise<Order> {
    return this.#call(
      async (options) => fromProto((await this.#client.updateOrderStatus({ orderId, status: OrderStatus[status] }, options)).order),
      headers
    )
  }

  async #call<T>(call: (options: CallOptions) => Promise<T>, headers: ForwardedHeaders): Promise<T> {
    const metadata: Record<string, string> = {}
    for (const [name, value] of Object.entries(headers)) if (value !== undefined) metadata[name] = value
    try {
      return await call({ timeoutMs: this.#timeoutMs, headers: metadata })
    } catch (error) {
      throw problemFromOrderError(error)
    }
  }
}
