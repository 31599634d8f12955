import { randomBytes, randomUUID } from 'node:crypto'
import { createEvent } from '@polyshop/events'
import type { Logger } from 'pino'
import { errors } from '../errors.js'
import type { LoginThrottle } from '../repositories/login-throttle.js'
import type { RefreshTokenStore } from '../repositories/refresh-tokens.js'
import type { RevocationStore } from '../repositories/revocations.js'
import { isDuplicateKey, normalizeEmail, type Role, type UserDocument, type UserRepository } from '../repositories/users.js'
import type { DerivationGate } from './derivation-gate.js'
import { hashPassword, type PasswordCheck, passwordPolicyViolation, type ScryptParameters, verifyPassword } from './passwords.js'
import { type SigningKeys, tokenSigner } from './signing-keys.js'

/** What clients see of a user: never the password hash or outbox internals. */
export interface PublicUser {
  id: string
  email: string
  name: string
  phone?: string
  roles: Role[]
  disabled: boolean
  createdAt: string
}

export interface AuthPayload {
  user: PublicUser
  accessToken: string
  refreshToken: string
  /** Seconds until the access token expires. */
  expiresIn: number
}

export interface AccountsOptions {
  users: UserRepository
  refreshTokens: RefreshTokenStore
  /** Where ended sessions and accounts are recorded for every service's verifier. */
  revocations: RevocationStore
  loginThrottle: LoginThrottle
  keys: SigningKeys
  issuer: string
  audience: string
  accessTokenTtlSeconds: number
  password: ScryptParameters
  /** Every password hash and check goes through it: their memory is bounded. */
  derivations: DerivationGate
  logger: Logger
}

export function toPublicUser(user: UserDocument): PublicUser {
  return {
    id: user._id,
    email: user.email,
    name: user.name,
    ...(user.phone === null ? {} : { phone: user.phone }),
    roles: user.roles,
    disabled: user.disabled,
    createdAt: user.createdAt.toISOString()
  }
}

/** Registration, sign-in and sessions: the user service's rules in one place. */
export class Accounts {
  readonly #o: AccountsOptions
  readonly #sign: (payload: Record<string, unknown>) => string
  /** Compared against when the email is unknown, so both failures take as long; made on first need, not at start. */
  #decoyHash: Promise<string> | undefined

  constructor(options: AccountsOptions) {
    this.#o = options
    this.#sign = tokenSigner(options.keys, {
      issuer: options.issuer,
      audience: options.audience,
      ttlSeconds: options.accessTokenTtlSeconds
    })
  }

  async register(
    input: { email: string; password: string; name: string; phone?: string | undefined },
    traceparent?: string
  ): Promise<AuthPayload> {
    const violation = passwordPolicyViolation(input.password, input.email)
    if (violation !== undefined) throw errors.WEAK_PASSWORD(violation)
    return this.#authPayload(await this.createUser({ ...input, roles: ['customer'] }, traceparent))
  }

  /** Creates a user and, in the same write, its shop.user.registered.v1 event. */
  async createUser(
    input: { email: string; password: string; name: string; phone?: string | undefined; roles: Role[] },
    traceparent?: string
  ): Promise<UserDocument> {
    const now = new Date()
    const user: UserDocument = {
      _id: randomUUID(),
      email: input.email.trim(),
      emailNormalized: normalizeEmail(input.email),
      name: input.name.trim(),
      phone: input.phone ?? null,
      passwordHash: await this.#o.derivations.run(() => hashPassword(input.password, this.#o.password)),
      roles: input.roles,
      disabled: false,
      createdAt: now,
      updatedAt: now
    }
    const event = createEvent(
      'shop.user.registered.v1',
      {
        userId: user._id,
        email: user.email,
        name: user.name,
        ...(user.phone === null ? {} : { phone: user.phone }),
        registeredAt: { seconds: BigInt(Math.floor(now.getTime() / 1000)), nanos: (now.getTime() % 1000) * 1_000_000 }
      },
      { source: '/polyshop/user', key: user._id, ...(traceparent === undefined ? {} : { traceparent }) }
    )
    try {
      await this.#o.users.outbox.insertOne(user, [event])
    } catch (error) {
      if (isDuplicateKey(error)) throw errors.EMAIL_TAKEN('An account with this email already exists.')
      throw error
    }
    return user
  }

  /**
   * Wrong password and unknown email fail alike (same error, same work). Guessing is throttled
   * per account and client, and per account for clients that never signed in to it — so the
   * owner's own client still gets in (see LoginThrottle). `client`: the caller's address.
   */
  async login(email: string, password: string, client: string): Promise<AuthPayload> {
    const account = normalizeEmail(email)
    const permit = await this.#o.loginThrottle.begin(account, client)
    if (!permit.allowed) {
      const retryAfter = permit.retryAfterSeconds
      throw errors.TOO_MANY_ATTEMPTS(`Too many sign-in attempts for this account; try again in ${retryAfter} seconds.`, { retryAfter })
    }
    let user: UserDocument | null
    let check: PasswordCheck
    try {
      user = await this.#o.users.findByEmail(email)
      const stored = user?.passwordHash ?? (await this.#decoy())
      check = await this.#o.derivations.run(() => verifyPassword(password, stored, this.#o.password))
    } catch (error) {
      // The password was never checked (too many sign-ins at once, or the database failed): the
      // attempt gives its slots back, so a busy service cannot use up the owner's tries.
      await this.#o.loginThrottle.abandoned(permit.ticket).catch((cause: unknown) => {
        this.#o.logger.warn({ err: cause }, 'could not give back the slots of an unchecked sign-in; they count until their window ends')
      })
      throw error
    }
    // A failure keeps its slots: it counts until its window ends.
    if (user === null || !check.matches) throw errors.INVALID_CREDENTIALS('The email or the password is wrong.')
    await this.#o.loginThrottle.succeeded(permit.ticket)
    if (user.disabled) throw errors.ACCOUNT_DISABLED('This account has been disabled.')
    if (check.needsRehash) {
      await this.#o.users.update(user._id, {
        passwordHash: await this.#o.derivations.run(() => hashPassword(password, this.#o.password))
      })
    }
    return await this.#authPayload(user)
  }

  /**
   * A hash of a random password, checked against when the email is unknown so that it costs what
   * a known one does. Made once, when first needed (never for a known email, so its refusal is
   * always awaited); a refusal (busy) is not kept, the next unknown email tries again.
   */
  #decoy(): Promise<string> {
    this.#decoyHash ??= this.#o.derivations
      .run(() => hashPassword(randomBytes(16).toString('hex'), this.#o.password))
      .catch((error: unknown) => {
        this.#decoyHash = undefined
        throw error
      })
    return this.#decoyHash
  }

  async refresh(refreshToken: string): Promise<AuthPayload> {
    const rotation = await this.#o.refreshTokens.rotate(refreshToken)
    if (rotation.outcome === 'reused') {
      this.#o.logger.warn({ userId: rotation.userId }, 'a rotated refresh token was presented again; its session is revoked')
      await this.#o.revocations.revokeSessions(rotation.userId, [rotation.familyId], 'reuse of a rotated refresh token')
      throw errors.REFRESH_TOKEN_REUSED('This refresh token was already used; sign in again.')
    }
    if (rotation.outcome === 'invalid')
      throw errors.INVALID_REFRESH_TOKEN('The refresh token is unknown, expired or revoked; sign in again.')
    const user = await this.#o.users.findById(rotation.userId)
    if (user === null || user.disabled) {
      await this.#endAllSessions(rotation.userId, 'account disabled or deleted')
      throw errors.INVALID_REFRESH_TOKEN('The refresh token is unknown, expired or revoked; sign in again.')
    }
    return {
      user: toPublicUser(user),
      accessToken: this.#accessToken(user, rotation.familyId),
      refreshToken: rotation.token,
      expiresIn: this.#o.accessTokenTtlSeconds
    }
  }

  /** Ends the session of the given refresh token, or every session of the user without one. */
  async logout(userId: string, refreshToken: string | undefined): Promise<void> {
    if (refreshToken === undefined) {
      await this.#endAllSessions(userId, 'logout')
      return
    }
    const family = await this.#o.refreshTokens.familyOf(refreshToken)
    // Someone else's token is ignored rather than revealed.
    if (family !== undefined && family.userId === userId) {
      await this.#o.refreshTokens.revokeFamily(family.familyId, 'logout')
      await this.#o.revocations.revokeSessions(userId, [family.familyId], 'logout')
    }
  }

  /** Every session of the user ends: its refresh tokens here, its access tokens at every service. */
  async #endAllSessions(userId: string, reason: string): Promise<void> {
    await this.#o.revocations.revokeSessions(userId, await this.#o.refreshTokens.revokeAllOf(userId, reason), reason)
  }

  async setDisabled(userId: string, disabled: boolean): Promise<UserDocument> {
    const user = await this.#o.users.update(userId, { disabled })
    if (user === null) throw errors.USER_NOT_FOUND()
    if (disabled) {
      await this.#o.refreshTokens.revokeAllOf(userId, 'account disabled')
      // Every token issued so far, whatever its session: the account may do nothing more.
      await this.#o.revocations.revokeUser(userId, 'account disabled')
    }
    return user
  }

  /** Creates the configured admin if no account has that email; never changes an existing one. */
  async ensureAdmin(email: string, password: string): Promise<'created' | 'exists'> {
    if ((await this.#o.users.findByEmail(email)) !== null) return 'exists'
    try {
      await this.createUser({ email, password, name: 'Administrator', roles: ['admin', 'customer'] })
      return 'created'
    } catch (error) {
      if ((error as { code?: string }).code === errors.codes.EMAIL_TAKEN) return 'exists'
      throw error
    }
  }

  async #authPayload(user: UserDocument): Promise<AuthPayload> {
    const session = await this.#o.refreshTokens.issue(user._id)
    return {
      user: toPublicUser(user),
      accessToken: this.#accessToken(user, session.familyId),
      refreshToken: session.token,
      expiresIn: this.#o.accessTokenTtlSeconds
    }
  }

  /** `sid`: the session, so that ending it ends its access tokens too. */
  #accessToken(user: UserDocument, sessionId: string): string {
    return this.#sign({ sub: user._id, roles: user.roles, jti: randomUUID(), sid: sessionId })
  }
}
