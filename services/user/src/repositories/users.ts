import { OUTBOX_PROJECTION_EXCLUDE, type OutboxFields, type OutboxWriter } from '@polyshop/outbox'
import type { Collection, Db, Filter } from 'mongodb'

export type Role = 'customer' | 'admin'

export interface UserDocument extends OutboxFields {
  _id: string
  email: string
  /** Lower-cased email; the unique index makes addresses unique case-insensitively. */
  emailNormalized: string
  name: string
  phone: string | null
  passwordHash: string
  roles: Role[]
  disabled: boolean
  createdAt: Date
  updatedAt: Date
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase()
}

export class UserRepository {
  readonly #users: Collection<UserDocument>
  readonly outbox: OutboxWriter<UserDocument>

  constructor(db: Db, outbox: OutboxWriter<UserDocument>) {
    this.#users = db.collection<UserDocument>('users')
    this.outbox = outbox
  }

  async ensureIndexes(): Promise<void> {
    await this.#users.createIndex({ emailNormalized: 1 }, { unique: true, name: 'email_unique' })
    await this.#users.createIndex({ createdAt: -1, _id: -1 }, { name: 'newest_first' })
  }

  findById(id: string): Promise<UserDocument | null> {
    return this.#users.findOne({ _id: id }, { projection: OUTBOX_PROJECTION_EXCLUDE })
  }

  findByEmail(email: string): Promise<UserDocument | null> {
    return this.#users.findOne({ emailNormalized: normalizeEmail(email) }, { projection: OUTBOX_PROJECTION_EXCLUDE })
  }

  async update(
    id: string,
    set: Partial<Pick<UserDocument, 'name' | 'phone' | 'passwordHash' | 'disabled' | 'roles'>>
  ): Promise<UserDocument | null> {
    return await this.#users.findOneAndUpdate(
      { _id: id },
      { $set: { ...set, updatedAt: new Date() } },
      { returnDocument: 'after', includeResultMetadata: false }
    )
  }

  /** Newest first; `after` is the (createdAt, id) of the last user of the previous page. */
  async list(limit: number, after: { createdAt: Date; id: string } | undefined): Promise<UserDocument[]> {
    const filter: Filter<UserDocument> =
      after === undefined ? {} : { $or: [{ createdAt: { $lt: after.createdAt } }, { createdAt: after.createdAt, _id: { $lt: after.id } }] }
    return await this.#users.find(filter, { projection: OUTBOX_PROJECTION_EXCLUDE }).sort({ createdAt: -1, _id: -1 }).limit(limit).toArray()
  }
}

export function isDuplicateKey(error: unknown): boolean {
  return (error as { code?: number } | null)?.code === 11000
}
