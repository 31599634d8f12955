import { createHash, randomUUID } from 'node:crypto'
import { timestampFromDate } from '@bufbuild/protobuf/wkt'
import { type Client, Code, ConnectError } from '@connectrpc/connect'
import type { Identity } from '@polyshop/auth'
import { createEvent } from '@polyshop/events'
import { KeyedMutex } from '@polyshop/keyed-mutex'
import type { OutboxWriter } from '@polyshop/outbox'
import type { InventoryService } from '@polyshop/proto'
import type { Collection, Db, Filter } from 'mongodb'
import type { Logger } from 'pino'
import { type Address, moneyToProto, type OrderDocument, type OrderItem, STATUS_TO_PROTO, type Status } from './order-document.js'
import { type Hold, UnpaidHolds } from './unpaid-holds.js'

const MAX_LINES = 50
const MAX_QUANTITY = 99
const ID = /^[A-Za-z0-9_-]{1,64}$/
const IDEMPOTENCY_KEY = /^[A-Za-z0-9_.:-]{1,100}$/

/**
 * Errors of orders that failed after their stock was reserved, and whose stock could not be
 * released yet. (Not a ConnectError subclass: ConnectError's instanceof accepts any
 * ConnectError, subclass or not.)
 */
const stockStillHeld = new WeakSet<Error>()

/** The one live attempt at an idempotency key: a unique insert, so concurrent duplicates meet here. */
interface OrderRequestDocument {
  _id: string
  orderId: string
  requestHash: string
  state: 'processing' | 'done'
  createdAt: Date
}

export interface CreateOrderInput {
  items: Array<{ productId: string; quantity: number }>
  shippingAddress: Address | undefined
  idempotencyKey: string
}

/** Moves an admin may make; cancelling is the customer's (and admin's) CancelOrder. */
const NEXT_STATUSES: Record<Status, Status[]> = {
  PENDING: ['PAID'],
  CONFIRMED: ['PAID'],
  PAID: ['SHIPPED'],
  SHIPPED: ['DELIVERED'],
  DELIVERED: [],
  CANCELLED: []
}
const CANCELLABLE: Status[] = ['PENDING', 'CONFIRMED', 'PAID']
/** Placed, holding stock, not paid yet: what expires and what the per-user limits count. */
const UNPAID: Status[] = ['PENDING', 'CONFIRMED']

/** A hold younger than this may belong to an order still being placed: an exact check leaves it. */
const HOLD_GRACE_MS = 60_000

export interface OrdersOptions {
  db: Db
  outbox: OutboxWriter<OrderDocument>
  inventory: Client<typeof InventoryService>
  downstreamTimeoutMs: number
  logger: Logger
  /** Unpaid orders are cancelled (their stock released) this long after they were placed. */
  unpaidTtlMs: number
  /** A user's unpaid orders, and the units they hold, at most (placing one more is refused). */
  maxUnpaidOrders: number
  maxHeldUnits: number
}

function invalid(message: string): ConnectError {
  return new ConnectError(message, Code.InvalidArgument)
}

function isAdmin(identity: Identity): boolean {
  return identity.roles.includes('admin')
}

function validAddress(address: Address | undefined): Address {
  if (address === undefined) throw invalid('shipping_address is required')
  const text = (value: string | undefined, name: string, max: number, required = true) => {
    const trimmed = value?.trim() ?? ''
    if ((required && trimmed === '') || trimmed.length > max)
      throw invalid(`shipping_address.${name} must be ${required ? '1' : '0'} to ${max} characters`)
    return trimmed
  }
  if (!/^[A-Z]{2}$/.test(address.country)) throw invalid('shipping_address.country must be an ISO 3166-1 alpha-2 code, e.g. "DE"')
  const line2 = text(address.line2, 'line2', 200, false)
  return {
    name: text(address.name, 'name', 100),
    line1: text(address.line1, 'line1', 200),
    ...(line2 === '' ? {} : { line2 }),
    city: text(address.city, 'city', 100),
    postalCode: text(address.postalCode, 'postal_code', 20),
    country: address.country
  }
}

function validLines(items: CreateOrderInput['items']): Array<{ productId: string; quantity: number }> {
  if (items.length === 0 || items.length > MAX_LINES) throw invalid(`an order has 1 to ${MAX_LINES} lines`)
  const merged = new Map<string, number>()
  for (const item of items) {
    if (!ID.test(item.productId)) throw invalid(`"${item.productId.slice(0, 64)}" is not a product id`)
    if (!Number.isInteger(item.quantity) || item.quantity < 1 || item.quantity > MAX_QUANTITY)
      throw invalid(`quantity must be 1 to ${MAX_QUANTITY}`)
    merged.set(item.productId, (merged.get(item.productId) ?? 0) + item.quantity)
  }
  if ([...merged.values()].some((quantity) => quantity > MAX_QUANTITY))
    throw invalid(`quantity per product must be at most ${MAX_QUANTITY}`)
  return [...merged].map(([productId, quantity]) => ({ productId, quantity })).sort((a, b) => (a.productId < b.productId ? -1 : 1))
}

/**
 * Orders: creation that is idempotent per (user, key) and never leaves stock held for an
 * order that does not exist, and status changes that follow the allowed moves only. Each
 * state change and its event are one document write (the outbox).
 */
export class Orders {
  readonly #orders: Collection<OrderDocument>
  readonly #requests: Collection<OrderRequestDocument>
  readonly #o: OrdersOptions
  /** Per order: FerretDB v1's conditional updates are not atomic (see @polyshop/keyed-mutex). */
  readonly #locks = new KeyedMutex()
  /** Per user, while an order is placed: the unpaid-order limits are checked and kept together. */
  readonly #userLocks = new KeyedMutex()
  readonly #holds: UnpaidHolds
  /** Unpaid orders whose expiry failed (see expireUnpaid): left out of later batches. */
  readonly #unexpirable = new Set<string>()

  constructor(options: OrdersOptions) {
    this.#o = options
    this.#orders = options.db.collection<OrderDocument>('orders')
    this.#requests = options.db.collection<OrderRequestDocument>('order_requests')
    this.#holds = new UnpaidHolds(options.db)
  }

  async ensureIndexes(): Promise<void> {
    await this.#orders.createIndex({ userId: 1, createdAt: -1, _id: -1 }, { name: 'by_user_newest' })
    await this.#orders.createIndex({ createdAt: -1, _id: -1 }, { name: 'newest' })
    await this.#orders.createIndex({ stockReleasePending: 1 }, { name: 'release_pending' })
    await this.#orders.createIndex({ status: 1, createdAt: 1 }, { name: 'by_status_age' })
  }

  async create(identity: Identity, input: CreateOrderInput, traceparent?: string): Promise<OrderDocument> {
    if (!IDEMPOTENCY_KEY.test(input.idempotencyKey)) throw invalid('idempotency_key must be 1-100 letters, digits or . _ : -')
    const lines = validLines(input.items)
    const shippingAddress = validAddress(input.shippingAddress)
    const requestHash = createHash('sha256')
      .update(JSON.stringify([lines, shippingAddress]))
      .digest('hex')
    const requestId = JSON.stringify([identity.userId, input.idempotencyKey])
    const orderId = randomUUID()
    try {
      await this.#requests.insertOne({ _id: requestId, orderId, requestHash, state: 'processing', createdAt: new Date() })
    } catch (error) {
      if ((error as { code?: number }).code !== 11000) throw error
      return await this.#existing(requestId, requestHash)
    }
    let order: OrderDocument
    try {
      order = await this.#userLocks.run(identity.userId, async () => {
        await this.#withinUnpaidLimits(identity.userId, lines, orderId)
        return await this.#place(identity, orderId, lines, shippingAddress, input.idempotencyKey, traceparent)
      })
    } catch (error) {
      // Nothing was stored: the key is free for a corrected retry; unless stock is still held,
      // in which case recover() finds the request and releases it first.
      if (!stockStillHeld.has(error as Error)) {
        await this.#requests.deleteOne({ _id: requestId })
        await this.#released(identity.userId, orderId)
      }
      throw error
    }
    // The order is stored: a failure to mark the claim done must not undo it (#existing and
    // recover() both cope with a "processing" claim whose order exists).
    await this.#requests.updateOne({ _id: requestId }, { $set: { state: 'done' } }).catch((error: unknown) => {
      this.#o.logger.warn({ err: error, orderId }, 'order stored, claim not marked done')
    })
    return order
  }

  /**
   * Stock cannot be hoarded: a user may hold at most maxUnpaidOrders unpaid orders and
   * maxHeldUnits units in them. Expired ones do not count (expireUnpaid() cancels them soon).
   * Checked against the user's UnpaidHolds (one lookup by id), and exactly against the orders
   * only when those say the user is at a limit; then `orderId` is recorded as held.
   */
  async #withinUnpaidLimits(userId: string, lines: Array<{ quantity: number }>, orderId: string): Promise<void> {
    const now = Date.now()
    const asked = lines.reduce((sum, line) => sum + line.quantity, 0)
    const { live, expired } = await this.#holds.read(userId, now)
    const units = (holds: Iterable<Hold>) => [...holds].reduce((sum, hold) => sum + hold.units, 0)
    if (live.size >= this.#o.maxUnpaidOrders || units(live.values()) + asked > this.#o.maxHeldUnits) {
      const open = await this.#orders
        .find({ userId, status: { $in: UNPAID }, createdAt: { $gt: new Date(now - this.#o.unpaidTtlMs) } }, { projection: { items: 1 } })
        .toArray()
      // Entries the orders disprove, old enough that their order is not still being placed.
      const stored = new Set(open.map((order) => order._id))
      const disproved = [...live].filter(([id, hold]) => !stored.has(id) && hold.addedAt.getTime() < now - HOLD_GRACE_MS).map(([id]) => id)
      await this.#holds.remove(userId, disproved)
      if (open.length >= this.#o.maxUnpaidOrders) {
        throw new ConnectError(
          `you have ${open.length} unpaid orders, the most allowed: pay or cancel one before placing another`,
          Code.FailedPrecondition
        )
      }
      const held = open.reduce((sum, order) => sum + order.items.reduce((n, item) => n + item.quantity, 0), 0)
      if (held + asked > this.#o.maxHeldUnits) {
        throw new ConnectError(
          `unpaid orders may hold ${this.#o.maxHeldUnits} units in all; you hold ${held} and asked for ${asked}: pay or cancel first`,
          Code.FailedPrecondition
        )
      }
    }
    await this.#holds.add(userId, orderId, { units: asked, until: new Date(now + this.#o.unpaidTtlMs), addedAt: new Date(now) }, expired)
  }

  /** The order no longer holds anything unpaid: its entry goes (a failure only over-counts, see UnpaidHolds). */
  async #released(userId: string, orderId: string): Promise<void> {
    await this.#holds.remove(userId, [orderId]).catch((error: unknown) => {
      this.#o.logger.warn({ err: error, orderId }, 'could not forget an unpaid hold; the next check at the limit will')
    })
  }

  /** A repeat of a key: the same order for the same request, a refusal for another. */
  async #existing(requestId: string, requestHash: string): Promise<OrderDocument> {
    const deadline = Date.now() + this.#o.downstreamTimeoutMs * 3
    for (;;) {
      const request = await this.#requests.findOne({ _id: requestId })
      if (request !== null && request.requestHash !== requestHash) {
        throw new ConnectError('this idempotency key was used for another order', Code.AlreadyExists)
      }
      if (request !== null) {
        const order = await this.#orders.findOne({ _id: request.orderId })
        if (order !== null) return order
      }
      if (request === null || Date.now() > deadline) {
        throw new ConnectError('an order with this idempotency key is being placed; retry', Code.Aborted)
      }
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }

  async #place(
    identity: Identity,
    orderId: string,
    lines: Array<{ productId: string; quantity: number }>,
    shippingAddress: Address,
    idempotencyKey: string,
    traceparent?: string
  ): Promise<OrderDocument> {
    const call = { timeoutMs: this.#o.downstreamTimeoutMs }
    // Names and prices come from the catalog, never from the client.
    const { products } = await this.#o.inventory.getProducts({ productIds: lines.map((l) => l.productId) }, call)
    const byId = new Map(products.map((p) => [p.id, p]))
    const items: OrderItem[] = lines.map((line) => {
      const product = byId.get(line.productId)
      if (product?.price === undefined) throw new ConnectError(`product ${line.productId} does not exist`, Code.NotFound)
      return {
        productId: line.productId,
        name: product.name,
        quantity: line.quantity,
        unitPrice: { amount: Number(product.price.amount), currency: product.price.currency }
      }
    })
    const currency = items[0]?.unitPrice.currency ?? 'EUR'
    if (items.some((item) => item.unitPrice.currency !== currency))
      throw new ConnectError('an order is in one currency', Code.FailedPrecondition)
    const total = { amount: items.reduce((sum, item) => sum + item.unitPrice.amount * item.quantity, 0), currency }

    try {
      await this.#o.inventory.reserveStock({ orderId, lines }, call)
    } catch (error) {
      const code = ConnectError.from(error).code
      if (code === Code.FailedPrecondition || code === Code.NotFound || code === Code.InvalidArgument || code === Code.AlreadyExists)
        throw error
      // A deadline or a lost connection says nothing about whether the product service
      // reserved: release to be sure (releasing also refuses a reservation that arrives late).
      const released = await this.#o.inventory.releaseStock({ orderId }, call).then(
        () => true,
        () => false
      )
      const failure = new ConnectError('the product service did not answer in time; retry', Code.Unavailable)
      if (!released) stockStillHeld.add(failure)
      throw failure
    }
    const now = new Date()
    const order: OrderDocument = {
      _id: orderId,
      userId: identity.userId,
      idempotencyKey,
      status: 'CONFIRMED',
      items,
      total,
      shippingAddress,
      createdAt: now,
      updatedAt: now
    }
    const event = createEvent(
      'shop.order.created.v1',
      {
        orderId,
        userId: identity.userId,
        items: items.map((item) => ({ ...item, unitPrice: moneyToProto(item.unitPrice) })),
        total: moneyToProto(total),
        shippingAddress,
        createdAt: timestampFromDate(now)
      },
      this.#eventOptions(orderId, traceparent)
    )
    try {
      await this.#o.outbox.insertOne(order, [event])
    } catch (error) {
      // The write may have been applied although the reply was lost — or may still be applied:
      // a write on its way to the server can land after a read that does not see it. Releasing
      // the stock now could leave a stored order with nothing held for it, so the claim stays
      // "processing" and recover() decides once the write can no longer land (the order exists:
      // done; it does not: release). A retry with the same key waits for that outcome.
      const stored = await this.#orders.findOne({ _id: orderId }).catch(() => null)
      if (stored !== null) return stored
      this.#o.logger.error({ err: error, orderId }, 'order not confirmed stored after its stock was reserved; recovery will decide')
      const failure = new ConnectError('the order could not be confirmed stored; retry with the same idempotency key', Code.Unavailable)
      stockStillHeld.add(failure)
      throw failure
    }
    return order
  }

  /** An order the caller may see: their own, or any for an admin; others are NOT_FOUND. */
  async get(identity: Identity, orderId: string): Promise<OrderDocument> {
    if (!ID.test(orderId)) throw invalid('order_id is not an order id')
    const order = await this.#orders.findOne({ _id: orderId }, { projection: { outbox: 0 } })
    if (order === null || (order.userId !== identity.userId && !isAdmin(identity))) throw new ConnectError('no such order', Code.NotFound)
    return order
  }

  async list(
    identity: Identity,
    request: { pageSize: number; pageToken: string; userId: string; allUsers: boolean }
  ): Promise<{ orders: OrderDocument[]; nextPageToken: string }> {
    if ((request.allUsers || (request.userId !== '' && request.userId !== identity.userId)) && !isAdmin(identity)) {
      throw new ConnectError("only an admin may list other users' orders", Code.PermissionDenied)
    }
    if (request.pageSize < 0 || request.pageSize > 100) throw invalid('page_size must be 0 to 100')
    const limit = request.pageSize === 0 ? 20 : request.pageSize
    const conditions: Filter<OrderDocument>[] = request.allUsers
      ? []
      : [{ userId: request.userId === '' ? identity.userId : request.userId }]
    if (request.pageToken !== '') {
      let after: [string, string]
      try {
        after = JSON.parse(Buffer.from(request.pageToken, 'base64url').toString('utf8')) as [string, string]
        if (typeof after[1] !== 'string' || Number.isNaN(Date.parse(after[0]))) throw new Error('bad token')
      } catch {
        throw invalid('page_token is not one this service issued')
      }
      const createdAt = new Date(after[0])
      conditions.push({ $or: [{ createdAt: { $lt: createdAt } }, { createdAt, _id: { $lt: after[1] } }] })
    }
    const page = await this.#orders
      .find(conditions.length > 0 ? { $and: conditions } : {}, { projection: { outbox: 0 } })
      .sort({ createdAt: -1, _id: -1 })
      .limit(limit + 1)
      .toArray()
    const orders = page.slice(0, limit)
    const last = orders.at(-1)
    return {
      orders,
      nextPageToken:
        page.length > limit && last !== undefined
          ? Buffer.from(JSON.stringify([last.createdAt.toISOString(), last._id])).toString('base64url')
          : ''
    }
  }

  /** Before shipping only; gives the stock back. */
  async cancel(identity: Identity, orderId: string, reason: string, traceparent?: string): Promise<OrderDocument> {
    if (reason.length > 500) throw invalid('reason is at most 500 characters')
    return await this.#locks.run(orderId, async () => {
      const order = await this.get(identity, orderId)
      if (!CANCELLABLE.includes(order.status)) {
        throw new ConnectError(`a ${order.status.toLowerCase()} order can no longer be cancelled`, Code.FailedPrecondition)
      }
      const updated = await this.#cancelStored(order, reason, traceparent)
      if (updated === null) throw new ConnectError('the order changed meanwhile; retry', Code.Aborted)
      return updated
    })
  }

  /**
   * Cancels unpaid orders placed more than unpaidTtlMs ago and gives their stock back (with
   * their shop.order.cancelled.v1 event, like any cancellation). Run periodically; returns how
   * many it cancelled. An order paid meanwhile is left alone (the write is conditional).
   */
  async expireUnpaid(now = Date.now(), batch = 100): Promise<number> {
    const reason = `not paid within ${Math.round(this.#o.unpaidTtlMs / 60_000)} minutes`
    const due = await this.#orders
      .find({
        status: { $in: UNPAID },
        createdAt: { $lte: new Date(now - this.#o.unpaidTtlMs) },
        // Orders that could not be cancelled are not asked for again first: they would fill the batch.
        ...(this.#unexpirable.size === 0 ? {} : { _id: { $nin: [...this.#unexpirable] } })
      })
      .sort({ createdAt: 1 })
      .limit(batch)
      .toArray()
    let expired = 0
    for (const stale of due) {
      try {
        await this.#locks.run(stale._id, async () => {
          const order = await this.#orders.findOne({ _id: stale._id })
          if (order === null || !UNPAID.includes(order.status)) return
          if ((await this.#cancelStored(order, reason)) !== null) expired++
        })
      } catch (error) {
        // One order that cannot be cancelled must not keep the others' stock held: go on, and
        // leave it out of later batches (until the process restarts, or a thousand more fail).
        this.#o.logger.error({ err: error, orderId: stale._id }, 'could not expire an unpaid order; it needs a look')
        this.#unexpirable.add(stale._id)
        if (this.#unexpirable.size > 1000) this.#unexpirable.delete(this.#unexpirable.values().next().value as string)
      }
    }
    if (expired > 0) this.#o.logger.info({ expired }, 'unpaid orders expired; their stock is released')
    return expired
  }

  /** The cancellation write (status, event, stock release) of an order as it was read; null if it changed meanwhile. */
  async #cancelStored(order: OrderDocument, reason: string, traceparent?: string): Promise<OrderDocument | null> {
    const orderId = order._id
    const now = new Date()
    const event = createEvent(
      'shop.order.cancelled.v1',
      {
        orderId,
        userId: order.userId,
        reason,
        items: order.items.map((item) => ({ ...item, unitPrice: moneyToProto(item.unitPrice) })),
        total: moneyToProto(order.total),
        cancelledAt: timestampFromDate(now)
      },
      this.#eventOptions(orderId, traceparent)
    )
    const updated = await this.#o.outbox.findOneAndUpdate(
      { _id: orderId, status: order.status },
      { $set: { status: 'CANCELLED', updatedAt: now, stockReleasePending: true } },
      [event]
    )
    if (updated === null) return null
    await this.#released(order.userId, orderId)
    return (await this.#releaseOrFlag(orderId)) ? { ...updated, stockReleasePending: false } : updated
  }

  async updateStatus(identity: Identity, orderId: string, status: Status, traceparent?: string): Promise<OrderDocument> {
    if (!isAdmin(identity)) throw new ConnectError('only an admin may change an order status', Code.PermissionDenied)
    return await this.#locks.run(orderId, async () => {
      const order = await this.get(identity, orderId)
      if (!NEXT_STATUSES[order.status].includes(status)) {
        throw new ConnectError(`an order cannot go from ${order.status} to ${status}`, Code.FailedPrecondition)
      }
      const now = new Date()
      const event = createEvent(
        'shop.order.status_changed.v1',
        {
          orderId,
          userId: order.userId,
          previousStatus: STATUS_TO_PROTO[order.status],
          status: STATUS_TO_PROTO[status],
          changedAt: timestampFromDate(now)
        },
        this.#eventOptions(orderId, traceparent)
      )
      const updated = await this.#o.outbox.findOneAndUpdate({ _id: orderId, status: order.status }, { $set: { status, updatedAt: now } }, [
        event
      ])
      if (updated === null) throw new ConnectError('the order changed meanwhile; retry', Code.Aborted)
      if (!UNPAID.includes(status)) await this.#released(order.userId, orderId)
      return updated
    })
  }

  /**
   * Gives back stock still held: of cancelled orders whose release failed, and of attempts
   * that died between reserving and storing the order. Run periodically.
   */
  async recover(olderThanMs = 120_000): Promise<number> {
    let repaired = 0
    for (const order of await this.#orders.find({ stockReleasePending: true }, { projection: { _id: 1 } }).toArray()) {
      if (await this.#releaseOrFlag(order._id)) repaired++
    }
    const stale = await this.#requests.find({ state: 'processing', createdAt: { $lt: new Date(Date.now() - olderThanMs) } }).toArray()
    for (const request of stale) {
      try {
        if ((await this.#orders.countDocuments({ _id: request.orderId }, { limit: 1 })) > 0) {
          await this.#requests.updateOne({ _id: request._id }, { $set: { state: 'done' } })
          continue
        }
        // Release first (which also refuses a reservation still on its way), then free the key.
        await this.#o.inventory.releaseStock({ orderId: request.orderId }, { timeoutMs: this.#o.downstreamTimeoutMs })
        await this.#requests.deleteOne({ _id: request._id, state: 'processing' })
        repaired++
      } catch (error) {
        this.#o.logger.warn({ err: error, orderId: request.orderId }, 'could not recover an interrupted order yet')
      }
    }
    return repaired
  }

  /** Releases an order's stock; on failure leaves it flagged for recover(). */
  async #releaseOrFlag(orderId: string): Promise<boolean> {
    try {
      await this.#o.inventory.releaseStock({ orderId }, { timeoutMs: this.#o.downstreamTimeoutMs })
      await this.#orders.updateOne({ _id: orderId, stockReleasePending: true }, { $set: { stockReleasePending: false } })
      return true
    } catch (error) {
      this.#o.logger.warn({ err: error, orderId }, 'could not release stock yet; will retry')
      await this.#orders.updateOne({ _id: orderId }, { $set: { stockReleasePending: true } }).catch(() => {})
      return false
    }
  }

  #eventOptions(orderId: string, traceparent?: string) {
    return { source: '/polyshop/order', key: orderId, ...(traceparent === undefined ? {} : { traceparent }) }
  }
}
