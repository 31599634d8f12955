import { timestampDate } from '@bufbuild/protobuf/wkt'
import { type DecodedEvent, isEvent } from '@polyshop/events'
import { OrderStatus } from '@polyshop/proto'

/** What a subscriber of `orderUpdated` receives: an order's new status. */
export interface OrderUpdate {
  id: string
  userId: string
  status: string
  /** ISO 8601: when the order changed (the event's own time of change). */
  updatedAt: string
  /** When the gateway read the event, epoch ms: for the delay measured from commit to client. */
  receivedAt: number
}

const at = (timestamp: Parameters<typeof timestampDate>[0] | undefined, fallback: Date) =>
  (timestamp === undefined ? fallback : timestampDate(timestamp)).toISOString()

/** The status change an order event announces, or undefined for an event that is not about an order's status. */
export function orderUpdateFromEvent(event: DecodedEvent, receivedAt = Date.now()): OrderUpdate | undefined {
  if (isEvent(event, 'shop.order.created.v1')) {
    // A new order is CONFIRMED: its stock is reserved before the order is written.
    const { orderId, userId, createdAt } = event.data
    return { id: orderId, userId, status: 'CONFIRMED', updatedAt: at(createdAt, event.time), receivedAt }
  }
  if (isEvent(event, 'shop.order.cancelled.v1')) {
    const { orderId, userId, cancelledAt } = event.data
    return { id: orderId, userId, status: 'CANCELLED', updatedAt: at(cancelledAt, event.time), receivedAt }
  }
  if (isEvent(event, 'shop.order.status_changed.v1')) {
    const { orderId, userId, status, changedAt } = event.data
    const name = OrderStatus[status]
    if (name === undefined || status === OrderStatus.UNSPECIFIED) return undefined
    return { id: orderId, userId, status: name, updatedAt: at(changedAt, event.time), receivedAt }
  }
  return undefined
}

/** Which updates a subscription wants: one order, one user's orders, or (an admin's) every order. */
export type OrderUpdateFilter = { orderId: string; userId?: undefined } | { userId: string; orderId?: undefined } | 'all'

function matches(filter: OrderUpdateFilter, update: OrderUpdate): boolean {
  if (filter === 'all') return true
  if (filter.orderId !== undefined) return filter.orderId === update.id
  return filter.userId === update.userId
}

/**
 * The updates of one subscription, waiting for the client. Bounded: a later update of an order
 * replaces the waiting one (only the newest status matters), and past `maxPending` different
 * orders the subscriber is told it fell behind (its connection is closed; it reconnects and
 * reloads) instead of the gateway holding more for it.
 */
export class OrderUpdateStream implements AsyncIterableIterator<OrderUpdate> {
  readonly #pending: OrderUpdate[] = []
  readonly #maxPending: number
  readonly #onOverflow: () => void
  readonly #onEnd: () => void
  #waiting: ((result: IteratorResult<OrderUpdate>) => void) | undefined
  #ended = false

  constructor(maxPending: number, onOverflow: () => void, onEnd: () => void) {
    this.#maxPending = maxPending
    this.#onOverflow = onOverflow
    this.#onEnd = onEnd
  }

  get pending(): number {
    return this.#pending.length
  }

  push(update: OrderUpdate): void {
    if (this.#ended) return
    if (this.#waiting !== undefined) {
      const resolve = this.#waiting
      this.#waiting = undefined
      resolve({ value: update, done: false })
      return
    }
    const index = this.#pending.findIndex((waiting) => waiting.id === update.id)
    if (index >= 0) {
      this.#pending[index] = update
      return
    }
    if (this.#pending.length >= this.#maxPending) {
      this.end()
      this.#onOverflow()
      return
    }
    this.#pending.push(update)
  }

  next(): Promise<IteratorResult<OrderUpdate>> {
    const update = this.#pending.shift()
    if (update !== undefined) return Promise.resolve({ value: update, done: false })
    if (this.#ended) return Promise.resolve({ value: undefined, done: true })
    return new Promise((resolve) => {
      this.#waiting = resolve
    })
  }

  return(): Promise<IteratorResult<OrderUpdate>> {
    this.end()
    return Promise.resolve({ value: undefined, done: true })
  }

  /** No more updates: a waiting reader is released, the subscription leaves the hub. */
  end(): void {
    if (this.#ended) return
    this.#ended = true
    this.#pending.length = 0
    const resolve = this.#waiting
    this.#waiting = undefined
    resolve?.({ value: undefined, done: true })
    this.#onEnd()
  }

  [Symbol.asyncIterator](): this {
    return this
  }
}

interface Subscriber {
  filter: OrderUpdateFilter
  stream: OrderUpdateStream
}

export interface OrderUpdateHubOptions {
  /** Updates one subscription may have waiting before it counts as fallen behind. */
  maxPendingPerSubscription?: number
}

/**
 * The gateway's subscribers of order updates and the fan-out to them. Indexed by order and by
 * user, so an update costs a lookup per interested subscriber, not a scan of every subscription.
 */
export class OrderUpdateHub {
  readonly #byOrder = new Map<string, Set<Subscriber>>()
  readonly #byUser = new Map<string, Set<Subscriber>>()
  readonly #everything = new Set<Subscriber>()
  readonly #maxPending: number
  #count = 0

  constructor(options: OrderUpdateHubOptions = {}) {
    this.#maxPending = options.maxPendingPerSubscription ?? 100
  }

  /** Open subscriptions. */
  get size(): number {
    return this.#count
  }

  /** A stream of the updates the filter selects, until it ends (return(), overflow → onOverflow); then onEnd. */
  subscribe(filter: OrderUpdateFilter, onOverflow: () => void, onEnd: () => void = () => {}): OrderUpdateStream {
    const index = this.#indexFor(filter)
    const subscriber: Subscriber = {
      filter,
      stream: new OrderUpdateStream(this.#maxPending, onOverflow, () => {
        this.#count--
        index.set.delete(subscriber)
        if (index.set.size === 0 && index.key !== undefined) index.map?.delete(index.key)
        onEnd()
      })
    }
    index.set.add(subscriber)
    this.#count++
    return subscriber.stream
  }

  publish(update: OrderUpdate): void {
    for (const set of [this.#byOrder.get(update.id), this.#byUser.get(update.userId), this.#everything]) {
      if (set === undefined) continue
      // A copy: a stream that overflows leaves its set while we go through it.
      for (const subscriber of [...set]) if (matches(subscriber.filter, update)) subscriber.stream.push(update)
    }
  }

  #indexFor(filter: OrderUpdateFilter): { set: Set<Subscriber>; map?: Map<string, Set<Subscriber>>; key?: string } {
    if (filter === 'all') return { set: this.#everything }
    const [map, key] = filter.orderId !== undefined ? [this.#byOrder, filter.orderId] : [this.#byUser, filter.userId]
    let set = map.get(key)
    if (set === undefined) {
      set = new Set()
      map.set(key, set)
    }
    return { set, map, key }
  }
}
