import { Code, ConnectError } from '@connectrpc/connect'
import { KeyedMutex } from '@polyshop/keyed-mutex'
import type { Collection, Db, Filter, UpdateFilter } from 'mongodb'
import type { Logger } from 'pino'
import type { ProductDocument, ProductRepository } from '../repositories/products.js'

export interface StockLine {
  productId: string
  quantity: number
}

type ReservationState = 'reserving' | 'reserved' | 'released' | 'failed'

/**
 * One order's hold on stock. Its id is the order id, so a reservation exists at most once per
 * order (an insert with a unique _id is atomic everywhere). `applied` records which lines
 * have been taken from stock, so an interrupted reservation can be rolled back exactly.
 */
interface ReservationDocument {
  _id: string
  lines: StockLine[]
  applied: string[]
  state: ReservationState
  createdAt: Date
  updatedAt: Date
}

export const MAX_LINES = 50
export const MAX_QUANTITY = 99

/** Same products and quantities, whatever the order of the lines. */
function sameLines(a: StockLine[], b: StockLine[]): boolean {
  const key = (lines: StockLine[]) => JSON.stringify([...lines].sort((x, y) => (x.productId < y.productId ? -1 : 1)))
  return key(a) === key(b)
}

/** Merges repeated products and checks the limits; INVALID_ARGUMENT otherwise. */
export function normalizeLines(lines: StockLine[]): StockLine[] {
  if (lines.length === 0 || lines.length > MAX_LINES) throw new ConnectError(`an order has 1 to ${MAX_LINES} lines`, Code.InvalidArgument)
  const merged = new Map<string, number>()
  for (const line of lines) {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(line.productId))
      throw new ConnectError(`"${line.productId.slice(0, 64)}" is not a product id`, Code.InvalidArgument)
    if (!Number.isInteger(line.quantity) || line.quantity < 1 || line.quantity > MAX_QUANTITY) {
      throw new ConnectError(`quantity must be 1 to ${MAX_QUANTITY}`, Code.InvalidArgument)
    }
    merged.set(line.productId, (merged.get(line.productId) ?? 0) + line.quantity)
  }
  for (const [productId, quantity] of merged) {
    if (quantity > MAX_QUANTITY) throw new ConnectError(`quantity of ${productId} must be at most ${MAX_QUANTITY}`, Code.InvalidArgument)
  }
  return [...merged].map(([productId, quantity]) => ({ productId, quantity }))
}

export function validOrderId(orderId: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(orderId))
    throw new ConnectError('order_id must be 1-64 letters, digits, "-" or "_"', Code.InvalidArgument)
  return orderId
}

export class Inventory {
  readonly #products: Collection<ProductDocument>
  readonly #reservations: Collection<ReservationDocument>
  readonly #catalog: ProductRepository
  readonly #log: Logger
  /** Per product and per order: see KeyedMutex for why. */
  readonly #locks = new KeyedMutex()

  constructor(db: Db, catalog: ProductRepository, logger: Logger) {
    this.#products = catalog.products
    this.#reservations = db.collection<ReservationDocument>('reservations')
    this.#catalog = catalog
    this.#log = logger.child({ component: 'inventory' })
  }

  async getProducts(ids: string[]): Promise<ProductDocument[]> {
    if (ids.length > 200) throw new ConnectError('at most 200 product ids per call', Code.InvalidArgument)
    return await this.#catalog.findByIds([...new Set(ids)])
  }

  /**
   * Takes every line from stock or none. Repeating it for the same order returns the
   * existing reservation; the same order id with other lines is refused.
   */
  async reserve(orderId: string, requested: StockLine[]): Promise<StockLine[]> {
    validOrderId(orderId)
    const lines = normalizeLines(requested)
    return await this.#locks.run(`order:${orderId}`, async () => {
      const existing = await this.#reservations.findOne({ _id: orderId })
      if (existing !== null) {
        if (existing.state === 'reserved' && sameLines(existing.lines, lines)) return existing.lines
        if (existing.state === 'reserved')
          throw new ConnectError('this order already holds a reservation with other lines', Code.AlreadyExists)
        if (existing.state === 'released') throw new ConnectError("this order's reservation was released", Code.FailedPrecondition)
        // 'failed', or 'reserving' left by a crash: undo what was taken, then try afresh.
        await this.#rollBack(existing)
        await this.#reservations.deleteOne({ _id: orderId })
      }
      const now = new Date()
      await this.#reservations.insertOne({ _id: orderId, lines, applied: [], state: 'reserving', createdAt: now, updatedAt: now })
      const applied: StockLine[] = []
      try {
        for (const line of [...lines].sort((a, b) => (a.productId < b.productId ? -1 : 1))) {
          await this.#take(orderId, line)
          applied.push(line)
          await this.#reservations.updateOne({ _id: orderId }, { $push: { applied: line.productId }, $set: { updatedAt: new Date() } })
        }
      } catch (error) {
        await this.#rollBack({
          _id: orderId,
          lines,
          applied: applied.map((l) => l.productId),
          state: 'reserving',
          createdAt: now,
          updatedAt: now
        })
        await this.#reservations.updateOne({ _id: orderId }, { $set: { state: 'failed', applied: [], updatedAt: new Date() } })
        throw error
      }
      await this.#reservations.updateOne({ _id: orderId }, { $set: { state: 'reserved', updatedAt: new Date() } })
      // The reservation now lists every line: the products' marks of this order have done their job.
      for (const line of lines) await this.#onProduct(line.productId, { $unset: { [`${TAKING}.${orderId}`]: '' } })
      return lines
    })
  }

  /** Gives an order's stock back once; false when there was nothing (left) to release. */
  async release(orderId: string): Promise<boolean> {
    validOrderId(orderId)
    return await this.#locks.run(`order:${orderId}`, async () => {
      const reservation = await this.#reservations.findOne({ _id: orderId })
      if (reservation?.state === 'released') return false
      if (reservation === null || reservation.state === 'failed') {
        // Nothing held, but remember the release: a ReserveStock for this order that arrives
        // late (a retry after the caller gave up) must not take stock nobody will release.
        const now = new Date()
        await this.#reservations.updateOne(
          { _id: orderId },
          { $set: { lines: reservation?.lines ?? [], applied: [], state: 'released', updatedAt: now }, $setOnInsert: { createdAt: now } },
          { upsert: true }
        )
        return false
      }
      await this.#rollBack(reservation)
      await this.#reservations.updateOne({ _id: orderId }, { $set: { state: 'released', applied: [], updatedAt: new Date() } })
      return true
    })
  }

  /** Rolls back reservations a crashed process left half-done (older than `olderThanMs`). */
  async recoverInterrupted(olderThanMs = 60_000): Promise<number> {
    const stale = await this.#reservations.find({ state: 'reserving', updatedAt: { $lt: new Date(Date.now() - olderThanMs) } }).toArray()
    for (const reservation of stale) {
      await this.#locks.run(`order:${reservation._id}`, async () => {
        await this.#rollBack(reservation)
        await this.#reservations.updateOne({ _id: reservation._id }, { $set: { state: 'failed', applied: [], updatedAt: new Date() } })
      })
      this.#log.warn({ orderId: reservation._id }, 'rolled back an interrupted stock reservation')
    }
    return stale.length
  }

  /** For other writers of stock (the admin API), so they queue behind reservations. */
  async withProductLock<T>(productId: string, work: () => Promise<T>): Promise<T> {
    return await this.#locks.run(`product:${productId}`, work)
  }

  /** One write to a product's document, queued behind the others on that product (see KeyedMutex). */
  async #onProduct(productId: string, update: UpdateFilter<ProductDocument>, filter: Filter<ProductDocument> = {}): Promise<boolean> {
    return await this.#locks.run(`product:${productId}`, async () => {
      const result = await this.#products.updateOne({ ...filter, _id: productId }, update)
      return result.matchedCount === 1
    })
  }

  /**
   * The conditional atomic decrement: only if enough stock is left, and marking the product
   * with the order in the same write (`taking.<order>`). The reservation's `applied` is a second
   * document, written after: if the process or the database goes away in between, the mark
   * still says this order took these units, so a rollback gives them back (and a take repeated
   * for the same order takes nothing more).
   */
  async #take(orderId: string, line: StockLine): Promise<void> {
    const mark = `${TAKING}.${orderId}`
    const taken = await this.#onProduct(
      line.productId,
      { $inc: { stock: -line.quantity }, $set: { [mark]: line.quantity, updatedAt: new Date() } },
      { stock: { $gte: line.quantity }, [mark]: { $exists: false } }
    )
    if (taken) return
    const product = await this.#products.findOne({ _id: line.productId }, { projection: { stock: 1, [TAKING]: 1 } })
    if (product === null) throw new ConnectError(`product ${line.productId} does not exist`, Code.NotFound)
    if ((product as StockMarks)[TAKING]?.[orderId] !== undefined) return
    throw new ConnectError(`only ${product.stock} of product ${line.productId} left, ${line.quantity} asked`, Code.FailedPrecondition)
  }

  /**
   * Gives back every line this order took — listed in `applied`, or only marked on the product
   * (a take whose record never landed) — exactly once: the give-back is one write that also
   * marks the product `returned.<order>`, so a rollback interrupted anywhere and tried again
   * never returns a line twice; the marks are cleared once the reservation no longer lists it.
   */
  async #rollBack(reservation: ReservationDocument): Promise<void> {
    const orderId = reservation._id
    const taking = `${TAKING}.${orderId}`
    const returned = `${RETURNED}.${orderId}`
    for (const line of reservation.lines) {
      const listed = reservation.applied.includes(line.productId)
      await this.#onProduct(
        line.productId,
        { $inc: { stock: line.quantity }, $set: { [returned]: line.quantity, updatedAt: new Date() }, $unset: { [taking]: '' } },
        { [returned]: { $exists: false }, ...(listed ? {} : { [taking]: { $exists: true } }) }
      )
      if (listed) {
        await this.#reservations.updateOne({ _id: orderId }, { $pull: { applied: line.productId }, $set: { updatedAt: new Date() } })
      }
      await this.#onProduct(line.productId, { $unset: { [returned]: '' } })
    }
  }
}

/** Per-order marks on a product document (see #take and #rollBack); never part of what the API shows. */
const TAKING = 'taking'
const RETURNED = 'returned'
interface StockMarks {
  [TAKING]?: Record<string, number>
  [RETURNED]?: Record<string, number>
}
