import { createDecoder, createVerifier, TokenError } from 'fast-jwt'
import type { RevocationList } from './revocations.js'

/** Who is calling, from a verified access token. */
export interface Identity {
  userId: string
  roles: string[]
  /** The token's jti. */
  tokenId: string
  /** The raw token, to forward to the next service. */
  token: string
  expiresAt: Date
  issuedAt: Date
  /** The sign-in session (refresh-token family) the token belongs to, when it says (`sid`). */
  sessionId?: string
}

/** Returns the PEM public key for a key id, or undefined if the id is unknown. */
export type PublicKeyResolver = (kid: string) => Promise<string | undefined>

export interface AccessTokenVerifierOptions {
  issuer: string
  audience: string
  resolveKey: PublicKeyResolver
  /** Allowed clock difference between services, for exp/iat. */
  clockToleranceMs?: number
  /**
   * Remember this many verified tokens (until they expire, at most `cacheTtlMs`), so a client's
   * every request does not pay for an ECDSA verification. Only successes are kept: a refusal or
   * an unreachable key set is decided afresh each time. 0 (the default) keeps none.
   */
  cacheSize?: number
  cacheTtlMs?: number
  /** Ended sessions and accounts (fed from the user service): their tokens are refused, cached or not. */
  revocations?: RevocationList
}

/** The one algorithm polyshop signs with; anything else (none, HS256, RS256 …) is refused. */
export const ACCESS_TOKEN_ALGORITHM = 'ES256'

export class InvalidTokenError extends Error {
  override name = 'InvalidTokenError'
}

/** The keys to check a token against cannot be had right now (the user service is down). */
export class KeysUnavailableError extends Error {
  override name = 'KeysUnavailableError'
}

const decodeComplete = createDecoder({ complete: true })

/**
 * Verifies polyshop access tokens: ES256 only, a known `kid`, the configured `iss` and `aud`,
 * not expired, and every claim present (sub, roles, iss, aud, exp, iat, jti).
 */
export function createAccessTokenVerifier(options: AccessTokenVerifierOptions): (token: string) => Promise<Identity> {
  const verify = createVerifier({
    algorithms: [ACCESS_TOKEN_ALGORITHM],
    allowedIss: options.issuer,
    allowedAud: options.audience,
    requiredClaims: ['sub', 'roles', 'iss', 'aud', 'exp', 'iat', 'jti'],
    clockTolerance: options.clockToleranceMs ?? 5000,
    key: async (decoded: { header: { kid?: unknown } }) => {
      const kid = decoded.header.kid
      if (typeof kid !== 'string') throw new InvalidTokenError('the token has no key id')
      const key = await options.resolveKey(kid)
      if (key === undefined) throw new InvalidTokenError('the token was signed with an unknown key')
      return key
    }
  })

  const cacheSize = options.cacheSize ?? 0
  const cacheTtlMs = options.cacheTtlMs ?? 60_000
  const verified = new Map<string, { identity: Identity; until: number }>()

  const verifyToken = async (token: string): Promise<Identity> => {
    let header: { alg?: unknown }
    try {
      header = (decodeComplete(token) as { header: { alg?: unknown } }).header
    } catch {
      throw new InvalidTokenError('the token is malformed')
    }
    // Checked before any key is looked up, so `none` and HMAC-with-a-public-key never reach a verifier.
    if (header.alg !== ACCESS_TOKEN_ALGORITHM) throw new InvalidTokenError('the token uses a refused algorithm')
    let payload: Record<string, unknown>
    try {
      payload = (await verify(token)) as Record<string, unknown>
    } catch (error) {
      if (error instanceof InvalidTokenError) throw error
      // fast-jwt wraps what the key lookup throws: a refused key stays a refused token, but an
      // unreachable key source is an outage, not the caller's fault.
      const inner = (error as { originalError?: unknown }).originalError
      if (inner instanceof InvalidTokenError) throw inner
      if (inner instanceof Error) throw new KeysUnavailableError(`the signing keys cannot be fetched: ${inner.message}`, { cause: inner })
      const reason =
        error instanceof TokenError && error.code === TokenError.codes.expired ? 'the token has expired' : 'the token is not valid'
      throw new InvalidTokenError(reason, { cause: error })
    }
    const { sub, roles, jti, exp, iat, sid } = payload
    if (
      typeof sub !== 'string' ||
      !Array.isArray(roles) ||
      !roles.every((r) => typeof r === 'string') ||
      typeof jti !== 'string' ||
      typeof exp !== 'number' ||
      typeof iat !== 'number' ||
      (sid !== undefined && typeof sid !== 'string')
    ) {
      throw new InvalidTokenError('the token claims are malformed')
    }
    return {
      userId: sub,
      roles: roles as string[],
      tokenId: jti,
      token,
      expiresAt: new Date(exp * 1000),
      issuedAt: new Date(iat * 1000),
      ...(sid === undefined ? {} : { sessionId: sid })
    }
  }

  const revocations = options.revocations
  const notRevoked = (identity: Identity): Identity => {
    if (revocations?.isRevoked(identity) === true) throw new InvalidTokenError('the token was revoked (signed out or disabled)')
    return identity
  }
  if (cacheSize === 0) return async (token: string) => notRevoked(await verifyToken(token))
  return async (token: string): Promise<Identity> => {
    const now = Date.now()
    const hit = verified.get(token)
    if (hit !== undefined && hit.until > now) return notRevoked(hit.identity)
    if (hit !== undefined) verified.delete(token)
    const identity = await verifyToken(token)
    if (verified.size >= cacheSize) {
      // Insertion order: the oldest entry goes first.
      const oldest = verified.keys().next().value
      if (oldest !== undefined) verified.delete(oldest)
    }
    verified.set(token, { identity, until: Math.min(identity.expiresAt.getTime(), now + cacheTtlMs) })
    return notRevoked(identity)
  }
}
