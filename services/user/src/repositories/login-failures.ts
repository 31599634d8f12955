import type { Collection, Db } from 'mongodb'

interface LoginFailureDocument {
  _id: string
  count: number
  firstAt: Date
}

/**
 * Counts failed sign-ins per account across all replicas, so guessing one account's
 * password is throttled however many IPs the guesser uses. Approximate under concurrency
 * (a throttle, not a ledger).
 */
export class LoginFailures {
  readonly #failures: Collection<LoginFailureDocument>
  readonly #max: number
  readonly #windowMs: number

  constructor(db: Db, max: number, windowSeconds: number) {
    this.#failures = db.collection<LoginFailureDocument>('login_failures')
    this.#max = max
    this.#windowMs = windowSeconds * 1000
  }

  /** Seconds until the account may try again, or 0 when it may try now. */
  async retryAfterSeconds(account: string, now = Date.now()): Promise<number> {
    const doc = await this.#failures.findOne({ _id: account })
    if (doc === null || doc.count < this.#max) return 0
    const resetAt = doc.firstAt.getTime() + this.#windowMs
    return resetAt <= now ? 0 : Math.ceil((resetAt - now) / 1000)
  }

  async record(account: string, now = new Date()): Promise<void> {
    const doc = await this.#failures.findOne({ _id: account })
    if (doc === null || doc.firstAt.getTime() + this.#windowMs <= now.getTime()) {
      await this.#failures.replaceOne({ _id: account }, { count: 1, firstAt: now }, { upsert: true })
    } else {
      await this.#failures.updateOne({ _id: account }, { $inc: { count: 1 } })
    }
  }

  async clear(account: string): Promise<void> {
    await this.#failures.deleteOne({ _id: account })
  }

  /** Forgets windows that have ended (FerretDB v1 has no TTL indexes). */
  async deleteExpired(now = Date.now()): Promise<number> {
    return (await this.#failures.deleteMany({ firstAt: { $lte: new Date(now - this.#windowMs) } })).deletedCount
  }
}
