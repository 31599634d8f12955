/** The role of every service token; no user ever has it. */
export const SERVICE_ROLE = 'service'

/** The `sub` of a service's token. */
export function serviceSubject(name: string): string {
  return `service:${name}`
}

/** The path of the user service's client-credentials endpoint (not routed by the gateway). */
export const SERVICE_TOKEN_PATH = '/internal/v1/service-token'

export interface ServiceTokenSourceOptions {
  /** The user service, e.g. http://user:3001 */
  userServiceUrl: string
  clientId: string
  clientSecret: string
  timeoutMs?: number
  fetch?: typeof fetch
  now?: () => number
}

export interface ServiceTokenSource {
  /**
   * A valid token: cached, renewed in the background once 80 % of its life has passed (the cached
   * one is used meanwhile, and while renewal fails, until shortly before it expires); concurrent
   * callers share one request.
   */
  token(): Promise<string>
  /** Forgets the cached token (it was refused, e.g. after a key rotation). */
  invalidate(): void
}

/** A token is not presented in its last seconds: it could expire on the way. */
const EXPIRY_MARGIN_MS = 10_000

/** After a renewal failed, the next background attempt waits this long. */
const RENEW_RETRY_MS = 5000

/** Thrown when the user service cannot give a token now (down, or the credentials are refused). */
export class ServiceTokenUnavailableError extends Error {
  override name = 'ServiceTokenUnavailableError'
}

/** A service's own credentials, exchanged at the user service for short-lived service tokens. */
export function serviceTokenSource(options: ServiceTokenSourceOptions): ServiceTokenSource {
  const doFetch = options.fetch ?? fetch
  const now = options.now ?? Date.now
  const url = new URL(SERVICE_TOKEN_PATH, options.userServiceUrl).toString()
  let cached: { token: string; renewAt: number; usableUntil: number } | undefined
  let inflight: Promise<string> | undefined

  const request = async (): Promise<string> => {
    let response: Response
    try {
      response = await doFetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ clientId: options.clientId, clientSecret: options.clientSecret }),
        signal: AbortSignal.timeout(options.timeoutMs ?? 3000)
      })
    } catch (error) {
      throw new ServiceTokenUnavailableError(`the user service cannot be reached for a service token: ${(error as Error).message}`, {
        cause: error
      })
    }
    if (!response.ok) {
      await response.body?.cancel()
      throw new ServiceTokenUnavailableError(`the user service refused a service token for ${options.clientId}: HTTP ${response.status}`)
    }
    const body = (await response.json()) as { accessToken?: unknown; expiresIn?: unknown }
    if (typeof body.accessToken !== 'string' || typeof body.expiresIn !== 'number') {
      throw new ServiceTokenUnavailableError('the user service answered a malformed service token')
    }
    // Renewed from 80 % of its life; used until a little before it expires if renewal fails.
    cached = {
      token: body.accessToken,
      renewAt: now() + body.expiresIn * 800,
      usableUntil: now() + body.expiresIn * 1000 - Math.min(EXPIRY_MARGIN_MS, body.expiresIn * 100)
    }
    return body.accessToken
  }

  // After a failed renewal, the next one waits a little: an outage is not met with a request per call.
  let failedAt = Number.NEGATIVE_INFINITY
  const renew = (): Promise<string> => {
    inflight ??= request()
      .catch((error: unknown) => {
        failedAt = now()
        throw error
      })
      .finally(() => {
        inflight = undefined
      })
    return inflight
  }

  return {
    async token() {
      const at = now()
      if (cached !== undefined && cached.renewAt > at) return cached.token
      if (cached !== undefined && cached.usableUntil > at) {
        // Past 80 % of its life: renewed in the background, never waited for — the token in hand
        // still works, and a slow user service must not eat the caller's deadline.
        if (at - failedAt >= RENEW_RETRY_MS) renew().catch(() => {})
        return cached.token
      }
      return await renew()
    },
    invalidate() {
      cached = undefined
    }
  }
}
