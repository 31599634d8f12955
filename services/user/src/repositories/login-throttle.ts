import type { Collection, Db } from 'mongodb'

/** One sign-in attempt, holding one of its key's slots in a window until the window ends (or it succeeds). */
interface AttemptDocument {
  /** `<key>|<window number>|<slot>`: unique, so each slot is taken by exactly one attempt. */
  _id: string
  key: string
  window: number
  at: Date
}

/** A client (address) that has signed in to an account: the account's own owner, most likely. */
interface KnownClientDocument {
  _id: string
  lastSuccessAt: Date
}

export interface LoginThrottleOptions {
  /** Attempts per account and client per window (LOGIN_MAX_FAILURES). */
  maxPerClient: number
  /** Attempts per account per window from clients that never signed in to it (LOGIN_MAX_ACCOUNT_FAILURES). */
  maxPerAccount: number
  windowSeconds: number
  /** How long a successful client stays known. */
  knownClientDays?: number
}

/** Where a sign-in may go on, or how long it must wait. */
export type LoginPermit = { allowed: true; ticket: LoginTicket } | { allowed: false; retryAfterSeconds: number }

/** The attempts an allowed sign-in took, settled by succeeded() or left to count as failures. */
export interface LoginTicket {
  account: string
  client: string
  attemptIds: string[]
}

/**
 * Slows password guessing without letting a guesser lock the owner out, across all replicas.
 *
 * - Per account and client: `maxPerClient` attempts per window, then that client waits; a
 *   success clears its count.
 * - Per account, for clients that never signed in to it: `maxPerAccount` attempts per window in
 *   all, however many addresses a guesser uses. A client that has signed in to the account
 *   before (its owner's) is not held by this limit, so guesses from elsewhere cannot stop it.
 *
 * Counting is by attempt, not by failure, and each attempt takes a numbered slot of its key's
 * window before the password is checked. A slot is a document with a unique id, so taking it is
 * one atomic insert even on FerretDB (whose conditional updates are not): fifty guesses sent at
 * once get exactly the allowed number of password checks. Windows are fixed (a guesser gets at
 * most twice the limit across a window's end); refused attempts take no slot.
 */
export class LoginThrottle {
  readonly #attempts: Collection<AttemptDocument>
  readonly #known: Collection<KnownClientDocument>
  readonly #o: Required<LoginThrottleOptions>
  readonly #db: Db

  constructor(db: Db, options: LoginThrottleOptions) {
    this.#db = db
    this.#attempts = db.collection<AttemptDocument>('login_attempts')
    this.#known = db.collection<KnownClientDocument>('login_known_clients')
    this.#o = { knownClientDays: 30, ...options }
  }

  get #windowMs(): number {
    return this.#o.windowSeconds * 1000
  }

  async ensureIndexes(): Promise<void> {
    await this.#attempts.createIndex({ key: 1, window: 1 }, { name: 'by_key' })
    await this.#attempts.createIndex({ at: 1 }, { name: 'by_time' })
    // Earlier versions counted failures in login_failures; nothing reads it any more.
    await this.#db.dropCollection('login_failures')
  }

  /** Takes this attempt's place, or says how long to wait. */
  async begin(account: string, client: string, now = Date.now()): Promise<LoginPermit> {
    const perClient = await this.#take(`client:${account}|${client}`, this.#o.maxPerClient, now)
    if (!perClient.allowed) return perClient
    const ticket: LoginTicket = { account, client, attemptIds: [perClient.id] }
    if (await this.#isKnown(account, client, now)) return { allowed: true, ticket }
    const perAccount = await this.#take(`account:${account}`, this.#o.maxPerAccount, now)
    if (!perAccount.allowed) {
      await this.#attempts.deleteOne({ _id: perClient.id })
      return perAccount
    }
    ticket.attemptIds.push(perAccount.id)
    return { allowed: true, ticket }
  }

  /** The password was right: this client's count starts again, the attempt counts nowhere, and the client is known from now on. */
  async succeeded(ticket: LoginTicket, now = Date.now()): Promise<void> {
    await this.#attempts.deleteMany({ $or: [{ key: `client:${ticket.account}|${ticket.client}` }, { _id: { $in: ticket.attemptIds } }] })
    await this.#known.replaceOne({ _id: `${ticket.account}|${ticket.client}` }, { lastSuccessAt: new Date(now) }, { upsert: true })
  }

  /** The password was never checked: the attempt counts nowhere. */
  async abandoned(ticket: LoginTicket): Promise<void> {
    await this.#attempts.deleteMany({ _id: { $in: ticket.attemptIds } })
  }

  async #isKnown(account: string, client: string, now: number): Promise<boolean> {
    const known = await this.#known.findOne({ _id: `${account}|${client}` })
    return known !== null && known.lastSuccessAt.getTime() > now - this.#o.knownClientDays * 86_400_000
  }

  async #take(
    key: string,
    limit: number,
    now: number
  ): Promise<{ allowed: true; id: string } | { allowed: false; retryAfterSeconds: number }> {
    const window = Math.floor(now / this.#windowMs)
    const prefix = `${key}|${window}|`
    // Start at the first slot that looks free; a slot another attempt takes meanwhile fails the
    // insert (the id is unique) and the next one is tried; then the ones a success gave back.
    const taken = await this.#attempts.countDocuments({ key, window })
    const retryAfterSeconds = Math.max(1, Math.ceil(((window + 1) * this.#windowMs - now) / 1000))
    if (taken >= limit) return { allowed: false, retryAfterSeconds }
    const order = [...Array.from({ length: limit - taken }, (_, i) => taken + i), ...Array.from({ length: taken }, (_, i) => i)]
    for (const slot of order) {
      try {
        await this.#attempts.insertOne({ _id: `${prefix}${slot}`, key, window, at: new Date(now) })
        return { allowed: true, id: `${prefix}${slot}` }
      } catch (error) {
        if ((error as { code?: number }).code !== 11000) throw error
      }
    }
    return { allowed: false, retryAfterSeconds }
  }

  /** Forgets attempts that left the window and clients not seen for long (FerretDB v1 has no TTL indexes). */
  async deleteExpired(now = Date.now()): Promise<number> {
    const attempts = await this.#attempts.deleteMany({ at: { $lte: new Date(now - this.#windowMs) } })
    const known = await this.#known.deleteMany({ lastSuccessAt: { $lte: new Date(now - this.#o.knownClientDays * 86_400_000) } })
    return attempts.deletedCount + known.deletedCount
  }
}
