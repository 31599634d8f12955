import { randomUUID } from 'node:crypto'
import { type Revocation, type RevocationCursor, RevocationFeed, type RevocationPage } from '@polyshop/auth'
import type { Collection, Db } from 'mongodb'

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
  readonly #pageSize: number

  constructor(db: Db, accessTokenTtlSeconds: number, options: { clockToleranceMs?: number; pageSize?: number } = {}) {
    this.#revocations = db.collection<RevocationDocument>('access_revocations')
    this.#keepMs = accessTokenTtlSeconds * 1000 + (options.clockToleranceMs ?? 60_000)
    this.#pageSize = options.pageSize ?? 10_000
  }

  async ensureIndexes(): Promise<void> {
    await this.#revocations.createIndex({ revokedAt: 1, _id: 1 }, { name: 'by_time_and_id' })
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

  /**
   * The revocations from `cursor` on that can still matter, in (revokedAt, id) order: after
   * `since`, or at `since` after the revocation `after` (a full page's `next`).
   */
  async since(cursor: RevocationCursor): Promise<RevocationPage> {
    const now = Date.now()
    const oldest = now - this.#keepMs
    const filter =
      cursor.after !== undefined && cursor.since >= oldest
        ? { $or: [{ revokedAt: { $gt: new Date(cursor.since) } }, { revokedAt: new Date(cursor.since), _id: { $gt: cursor.after } }] }
        : { revokedAt: { $gte: new Date(Math.max(cursor.since, oldest)) } }
    const found = await this.#revocations.find(filter).sort({ revokedAt: 1, _id: 1 }).limit(this.#pageSize).toArray()
    const last = found.at(-1)
    const full = found.length === this.#pageSize && last !== undefined
    return {
      // A full page: readers that know `next` follow it; older ones (during a rollout) step back
      // OVERLAP_MS from `now` and so continue from the last entry's time, as they always did.
      now: full ? last.revokedAt.getTime() + RevocationFeed.OVERLAP_MS : now,
      ...(full ? { next: { since: last.revokedAt.getTime(), after: last._id } } : {}),
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
