import { jwkToPem, type PublicJwk } from './jwk.js'
import type { PublicKeyResolver } from './verifier.js'

export interface JwksResolverOptions {
  /** e.g. http://user:3001/.well-known/jwks.json */
  url: string
  /** How long a fetched key set is trusted before it is fetched again. */
  maxAgeMs?: number
  /** An unknown kid triggers a refetch, at most this often (a rotated-in key appears quickly; garbage kids cannot hammer the user service). */
  minRefetchIntervalMs?: number
  timeoutMs?: number
  fetch?: typeof fetch
}

/**
 * Resolves key ids against the user service's JWKS, cached. A services that verifies tokens
 * itself uses this with createAccessTokenVerifier.
 */
export function jwksKeyResolver(options: JwksResolverOptions): PublicKeyResolver {
  const maxAgeMs = options.maxAgeMs ?? 5 * 60_000
  const minRefetchIntervalMs = options.minRefetchIntervalMs ?? 10_000
  const doFetch = options.fetch ?? fetch
  let keys = new Map<string, string>()
  let fetchedAt = 0
  let inflight: Promise<void> | undefined

  async function refresh(): Promise<void> {
    inflight ??= (async () => {
      try {
        const response = await doFetch(options.url, { signal: AbortSignal.timeout(options.timeoutMs ?? 3000) })
        if (!response.ok) throw new Error(`JWKS ${options.url} answered ${response.status}`)
        const body = (await response.json()) as { keys?: PublicJwk[] }
        keys = new Map((body.keys ?? []).filter((k) => k.kty === 'EC' && k.alg === 'ES256').map((k) => [k.kid, jwkToPem(k)]))
        fetchedAt = Date.now()
      } finally {
        inflight = undefined
      }
    })()
    await inflight
  }

  return async (kid) => {
    const age = Date.now() - fetchedAt
    if (age > maxAgeMs || (!keys.has(kid) && age > minRefetchIntervalMs)) {
      // An unreachable user service keeps the keys we have rather than failing every request.
      await refresh().catch((error: unknown) => {
        if (keys.size === 0) throw error
      })
    }
    return keys.get(kid)
  }
}
