import type { Collection, Db } from 'mongodb'

/** One order as the model learns from it: the source of truth every replica's model is built from. */
export interface PurchaseDocument {
  /** The order id: one record per order, however often its events are delivered. */
  _id: string
  userId: string
  items: Array<{ productId: string; quantity: number; category: string | null }>
  placedAt: Date
  cancelled: boolean
  /** Set on every write; replicas read what changed since their last look. */
  updatedAt: Date
}

function isDuplicateKey(error: unknown): boolean {
  return (error as { code?: unknown }).code === 11000
}

/**
 * The purchases collection. Writes are idempotent by construction (a unique insert per order, a
 * cancellation that only ever sets a flag), so a redelivered event changes nothing, on MongoDB and
 * on FerretDB alike; the counts are derived from these records, never incremented in place.
 */
export class Purchases {
  readonly collection: Collection<PurchaseDocument>

  constructor(db: Db) {
    this.collection = db.collection<PurchaseDocument>('purchases')
  }

  async ensureIndexes(): Promise<void> {
    await this.collection.createIndex({ updatedAt: 1 }, { name: 'changed' })
    await this.collection.createIndex({ placedAt: 1 }, { name: 'placed' })
  }

  async get(orderId: string): Promise<PurchaseDocument | null> {
    return await this.collection.findOne({ _id: orderId })
  }

  /** Records a placed order once; a second delivery (or an earlier cancellation) keeps what is there. */
  async recordPlaced(purchase: Omit<PurchaseDocument, 'cancelled' | 'updatedAt'>): Promise<void> {
    try {
      await this.collection.insertOne({ ...purchase, cancelled: false, updatedAt: new Date() })
    } catch (error) {
      if (!isDuplicateKey(error)) throw error
    }
  }

  /** Marks an order cancelled; if its creation was never learnt, leaves a cancelled record so a late creation is ignored. */
  async recordCancelled(orderId: string, userId: string, cancelledAt: Date): Promise<void> {
    await this.collection.updateOne(
      { _id: orderId },
      { $set: { cancelled: true, updatedAt: new Date() }, $setOnInsert: { userId, items: [], placedAt: cancelledAt } },
      { upsert: true }
    )
  }

  changedSince(since: Date): AsyncIterable<PurchaseDocument> {
    return this.collection.find({ updatedAt: { $gte: since } })
  }

  placedSince(since: Date): AsyncIterable<PurchaseDocument> {
    return this.collection.find({ placedAt: { $gte: since } })
  }

  /** Forgets orders older than the model's horizon (no TTL indexes on FerretDB: a periodic sweep). */
  async deletePlacedBefore(before: Date): Promise<number> {
    return (await this.collection.deleteMany({ placedAt: { $lt: before } })).deletedCount
  }
}
