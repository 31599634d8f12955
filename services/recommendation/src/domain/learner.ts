import { timestampDate } from '@bufbuild/protobuf/wkt'
import type { Product, ProductCatalogClient } from '@polyshop/downstream'
import { type DecodedEvent, isEvent } from '@polyshop/events'
import type { Logger } from 'pino'
import type { RecommendationModel } from './model.js'
import type { Purchases } from './purchases.js'

export interface LearnerOptions {
  purchases: Purchases
  model: RecommendationModel
  catalog: ProductCatalogClient
  logger: Logger
}

/** A model read that takes longer than this is given up (and tried again at the next sync): a stuck read must not stop learning. */
const READ_TIMEOUT_MS = 60_000

/**
 * Learns from order.events. Each event becomes (at most) one write to the purchase records, and
 * this replica's model learns that record at once (read back by its id); records other replicas
 * wrote arrive with the periodic sync. The consumer may deliver an event twice, and several
 * replicas share the work, but every model ends up holding each order once.
 */
export class Learner {
  readonly #o: LearnerOptions
  #lastSync = new Date(0)
  #syncing: Promise<void> | undefined

  constructor(options: LearnerOptions) {
    this.#o = options
  }

  /** The consumer's handler. A catalog outage throws (retried, then dead-lettered with the reason). */
  async handle(event: DecodedEvent): Promise<void> {
    let orderId: string
    if (isEvent(event, 'shop.order.created.v1')) {
      const { userId, items, createdAt } = event.data
      orderId = event.data.orderId
      if ((await this.#o.purchases.get(orderId)) === null) {
        // Categories are looked up once, when the order is learnt, so the record is complete on its own.
        // A catalog outage must not keep the order out of the model (retries, then the DLQ): it is
        // learnt without categories, which other orders of the same products supply.
        const products = await this.#o.catalog.getMany(items.map((item) => item.productId)).catch((error: unknown) => {
          this.#o.logger.warn({ err: error, orderId }, 'catalog unavailable; learning the order without categories')
          return new Map<string, Product>()
        })
        await this.#o.purchases.recordPlaced({
          _id: orderId,
          userId,
          items: items.map((item) => ({
            productId: item.productId,
            quantity: item.quantity,
            category: products.get(item.productId)?.category ?? null
          })),
          placedAt: createdAt === undefined ? event.time : timestampDate(createdAt)
        })
      }
    } else if (isEvent(event, 'shop.order.cancelled.v1')) {
      const { userId, cancelledAt } = event.data
      orderId = event.data.orderId
      await this.#o.purchases.recordCancelled(orderId, userId, cancelledAt === undefined ? event.time : timestampDate(cancelledAt))
    } else {
      return
    }
    // Not a whole sync per event: on a large history that read is the slow part, and the
    // consumer would fall behind (measured under load: it did, by thousands of events).
    const purchase = await this.#o.purchases.get(orderId)
    if (purchase !== null) this.#o.model.apply(purchase)
  }

  /** Reads every purchase record written since the last look (by any replica) into the model. */
  sync(): Promise<void> {
    // One read at a time; a caller arriving during a read waits for the next one, so it sees its own write.
    const previous = this.#syncing ?? Promise.resolve()
    const next = previous.then(() => withTimeout(this.#read(), READ_TIMEOUT_MS))
    // The chain never rejects (the caller gets the failure from `next`), so no promise is left unhandled.
    const settled: Promise<void> = next
      .catch(() => undefined)
      .finally(() => {
        if (this.#syncing === settled) this.#syncing = undefined
      })
    this.#syncing = settled
    return next
  }

  async #read(): Promise<void> {
    const startedAt = new Date()
    // Writers' clocks differ and a write may land just after a read began: look a little back.
    const since = new Date(this.#lastSync.getTime() - 30_000)
    const records = this.#lastSync.getTime() === 0 ? this.#o.purchases.placedSince(new Date(0)) : this.#o.purchases.changedSince(since)
    let applied = 0
    for await (const purchase of records) {
      this.#o.model.apply(purchase)
      applied += 1
    }
    this.#o.model.expire()
    this.#lastSync = startedAt
    if (applied > 0) this.#o.logger.debug({ applied, orders: this.#o.model.orderCount }, 'recommendation model synced')
  }
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the model read took over ${ms / 1000} s; given up`)), ms)
    timer.unref()
  })
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer))
}
