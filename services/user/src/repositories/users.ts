import { createEvent } from '@polyshop/events'
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

  /**
   * Changes the profile and, in the same write, records its shop.user.profile_updated.v1 event
   * with the contact details as they now are. Optimistic: the write applies only if nobody
   * changed the user since it was read (then it reads again), so the event never describes a
   * state that was not stored.
   */
  async updateProfile(
    id: string,
    change: { name?: string; phone?: string | null },
    traceparent: string | undefined
  ): Promise<UserDocument | null> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await this.findById(id)
      if (current === null) return null
      const updatedAt = new Date()
      const next: UserDocument = { ...current, ...change, updatedAt }
      const event = createEvent(
        'shop.user.profile_updated.v1',
        {
          userId: id,
          email: next.email,
          name: next.name,
          ...(next.phone === null ? {} : { phone: next.phone }),
          updatedAt: { seconds: BigInt(Math.floor(updatedAt.getTime() / 1000)), nanos: (updatedAt.getTime() % 1000) * 1_000_000 }
        },
        { source: '/polyshop/user', key: id, ...(traceparent === undefined ? {} : { traceparent }) }
      )
      const result = await this.outbox.updateOne({ _id: id, updatedAt: current.updatedAt }, { $set: { ...change, updatedAt } }, [event], id)
      if (result.matchedCount === 1) return next
    }
    throw new Error(`the profile of ${id} kept changing under five attempts to update it`)
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
