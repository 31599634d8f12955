import type { Collection, Db } from 'mongodb'

/** An unpaid order a user holds (or is placing): its units, and when it expires. */
export interface Hold {
  units: number
  until: Date
  addedAt: Date
}

interface HoldsDocument {
  /** The user. */
  _id: string
  /** By order id. */
  orders: Record<string, Hold>
}

/**
 * Per user, the unpaid orders held or being placed, so that the unpaid-order limits take one
 * lookup by id instead of a query over every order (which a MongoDB-wire server without filter
 * push-down answers by reading the whole collection). It may count too many — an entry is added
 * before its order is stored and removed after the order stops being unpaid, each time as a
 * separate write — but not too few: a user who seems to be at a limit is checked exactly against
 * the orders, and the entries that check disproves are dropped.
 */
export class UnpaidHolds {
  readonly #holds: Collection<HoldsDocument>

  constructor(db: Db) {
    this.#holds = db.collection<HoldsDocument>('unpaid_holds')
  }

  /** The user's holds that have not expired, and the ids of those that have. */
  async read(userId: string, now: number): Promise<{ live: Map<string, Hold>; expired: string[] }> {
    const entries = Object.entries((await this.#holds.findOne({ _id: userId }))?.orders ?? {})
    return {
      live: new Map(entries.filter(([, hold]) => hold.until.getTime() > now)),
      expired: entries.filter(([, hold]) => hold.until.getTime() <= now).map(([orderId]) => orderId)
    }
  }

  /** Records an order about to be placed, and forgets `expired` ones in the same write. */
  async add(userId: string, orderId: string, hold: Hold, expired: string[] = []): Promise<void> {
    await this.#holds.updateOne(
      { _id: userId },
      {
        $set: { [`orders.${orderId}`]: hold },
        ...(expired.length === 0 ? {} : { $unset: Object.fromEntries(expired.map((id) => [`orders.${id}`, ''])) })
      },
      { upsert: true }
    )
  }

  /** Forgets orders that are no longer unpaid (paid, cancelled, expired, or never stored). */
  async remove(userId: string, orderIds: string[]): Promise<void> {
    if (orderIds.length === 0) return
    await this.#holds.updateOne({ _id: userId }, { $unset: Object.fromEntries(orderIds.map((id) => [`orders.${id}`, ''])) })
  }
}
