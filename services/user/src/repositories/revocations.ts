import { randomUUID } from 'node:crypto'
import { type Revocation, RevocationFeed, type RevocationPage } from '@polyshop/auth'
import type { Collection, Db } from 'mongodb'

const PAGE_SIZE = 10_000

interface RevocationDocument {
  _id: string
  userId: string
  sessionId: string | null
  revokedAt: Date
  reason: string
}

/**
 * Ended accesses, kept as long as a token they end could still be valid (the access-token
 * lifetime plus clock tolerance): every service's verifier reads them through the feed, so
 * signing out or a disabled account stops working everywhere within seconds, not at expiry.
 */
export class RevocationStore {
  readonly #revocations: Collection<RevocationDocument>
  readonly #keepMs: number

  constructor(db: Db, accessTokenTtlSeconds: number, clockToleranceMs = 60_000) {
    this.#revocations = db.collection<RevocationDocument>('access_revocations')
    this.#keepMs = accessTokenTtlSeconds * 1000 + clockToleranceMs
  }

  async ensureIndexes(): Promise<void> {
    await this.#revocations.createIndex({ revokedAt: 1 }, { name: 'by_time' })
  }

  /** Ends these sessions' access tokens. */
  async revokeSessions(userId: string, sessionIds: string[], reason: string): Promise<void> {
    if (sessionIds.length === 0) return
    const revokedAt = new Date()
    await this.#revocations.insertMany(sessionIds.map((sessionId) => ({ _id: randomUUID(), userId, sessionId, revokedAt, reason })))
  }

  /** Ends every access token of the user issued up to now (a disabled account). */
  async revokeUser(userId: string, reason: string): Promise<void> {
    await this.#revocations.insertOne({ _id: randomUUID(), userId, sessionId: null, revokedAt: new Date(), reason })
  }

  /** The revocations made since `since` (epoch ms) that can still matter. */
  async since(since: number): Promise<RevocationPage> {
    const now = Date.now()
    const from = new Date(Math.max(since, now - this.#keepMs))
    const found = await this.#revocations
      .find({ revokedAt: { $gte: from } })
      .sort({ revokedAt: 1 })
      .limit(PAGE_SIZE)
      .toArray()
    const last = found.at(-1)
    return {
      // A full page: the reader continues from its last entry (readers step back OVERLAP_MS).
      now: found.length === PAGE_SIZE && last !== undefined ? last.revokedAt.getTime() + RevocationFeed.OVERLAP_MS : now,
      revocations: found.map(
        (r): Revocation => ({
          id: r._id,
          userId: r.userId,
          ...(r.sessionId === null ? {} : { sessionId: r.sessionId }),
          revokedAt: r.revokedAt.getTime()
        })
      )
    }
  }

  /** FerretDB v1 has no TTL indexes: the service deletes what can no longer matter. */
  async deleteExpired(now = Date.now()): Promise<number> {
    return (await this.#revocations.deleteMany({ revokedAt: { $lt: new Date(now - this.#keepMs) } })).deletedCount
  }
}
