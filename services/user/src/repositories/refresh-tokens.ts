import { createHash, randomBytes, randomUUID } from 'node:crypto'
import type { Collection, Db } from 'mongodb'
import { isDuplicateKey } from './users.js'

/** One refresh token, stored by its SHA-256 only: a database leak yields no usable token. */
interface RefreshTokenDocument {
  _id: string
  userId: string
  familyId: string
  /**
   * The token this one replaced, or "root:<family>" for a sign-in. Unique: only one token can
   * ever replace a given token, which makes rotation a single atomic insert on MongoDB and on
   * FerretDB alike (FerretDB v1's conditional updates are not atomic).
   */
  parentId: string
  expiresAt: Date
  createdAt: Date
}

/** A sign-in session: every token rotated from one login. Revoking it logs the session out. */
interface FamilyDocument {
  _id: string
  userId: string
  createdAt: Date
  revokedAt: Date | null
  revokedReason: string | null
}

export type RotationResult =
  | { outcome: 'rotated'; token: string; userId: string; familyId: string }
  | { outcome: 'invalid' }
  | { outcome: 'reused'; userId: string; familyId: string }

function digest(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

function newToken(): string {
  return randomBytes(32).toString('base64url')
}

export class RefreshTokenStore {
  readonly #tokens: Collection<RefreshTokenDocument>
  readonly #families: Collection<FamilyDocument>
  readonly #ttlMs: number

  constructor(db: Db, ttlSeconds: number) {
    this.#tokens = db.collection<RefreshTokenDocument>('refresh_tokens')
    this.#families = db.collection<FamilyDocument>('refresh_token_families')
    this.#ttlMs = ttlSeconds * 1000
  }

  async ensureIndexes(): Promise<void> {
    await this.#tokens.createIndex({ parentId: 1 }, { unique: true, name: 'one_successor' })
    await this.#tokens.createIndex({ expiresAt: 1 }, { name: 'expiry' })
    await this.#families.createIndex({ userId: 1 }, { name: 'by_user' })
  }

  /** A new session for a sign-in: its first refresh token and the session's id. */
  async issue(userId: string): Promise<{ token: string; familyId: string }> {
    const familyId = randomUUID()
    const now = new Date()
    await this.#families.insertOne({ _id: familyId, userId, createdAt: now, revokedAt: null, revokedReason: null })
    const token = newToken()
    await this.#tokens.insertOne({
      _id: digest(token),
      userId,
      familyId,
      parentId: `root:${familyId}`,
      expiresAt: new Date(now.getTime() + this.#ttlMs),
      createdAt: now
    })
    return { token, familyId }
  }

  /**
   * Trades a refresh token for a new one. A token that was already traded means it leaked
   * (or a client replayed it): the whole family is revoked, so the thief's copy dies too.
   */
  async rotate(token: string): Promise<RotationResult> {
    const current = await this.#tokens.findOne({ _id: digest(token) })
    if (current === null || current.expiresAt.getTime() <= Date.now()) return { outcome: 'invalid' }
    const family = await this.#families.findOne({ _id: current.familyId })
    if (family === null || family.revokedAt !== null) return { outcome: 'invalid' }
    const next = newToken()
    const now = new Date()
    try {
      await this.#tokens.insertOne({
        _id: digest(next),
        userId: current.userId,
        familyId: current.familyId,
        parentId: current._id,
        // A session lives REFRESH_TOKEN_TTL_SECONDS from sign-in, however often it refreshes.
        expiresAt: current.expiresAt,
        createdAt: now
      })
    } catch (error) {
      if (!isDuplicateKey(error)) throw error
      await this.revokeFamily(current.familyId, 'reuse of a rotated refresh token')
      return { outcome: 'reused', userId: current.userId, familyId: current.familyId }
    }
    return { outcome: 'rotated', token: next, userId: current.userId, familyId: current.familyId }
  }

  /** The family a token belongs to, if the token exists. */
  async familyOf(token: string): Promise<{ familyId: string; userId: string } | undefined> {
    const found = await this.#tokens.findOne({ _id: digest(token) })
    return found === null ? undefined : { familyId: found.familyId, userId: found.userId }
  }

  async revokeFamily(familyId: string, reason: string): Promise<void> {
    await this.#families.updateOne({ _id: familyId, revokedAt: null }, { $set: { revokedAt: new Date(), revokedReason: reason } })
  }

  /** Revokes every live session of the user; returns their ids. */
  async revokeAllOf(userId: string, reason: string): Promise<string[]> {
    // Marked with this call's own time, then read back by it: a session that starts meanwhile is
    // either revoked and returned, or not revoked at all.
    const at = new Date()
    await this.#families.updateMany({ userId, revokedAt: null }, { $set: { revokedAt: at, revokedReason: reason } })
    const revoked = await this.#families.find({ userId, revokedAt: at }, { projection: { _id: 1 } }).toArray()
    return revoked.map((family) => family._id)
  }

  /** Drops expired tokens; FerretDB v1 has no TTL indexes, so the service runs this periodically. */
  async deleteExpired(now = new Date()): Promise<number> {
    const result = await this.#tokens.deleteMany({ expiresAt: { $lte: now } })
    return result.deletedCount
  }
}
