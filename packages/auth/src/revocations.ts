import { jwksKeyResolver } from './jwks.js'
import type { Identity, PublicKeyResolver } from './verifier.js'

/**
 * An ended access: a session (every token carrying its `sid`), or a whole user (every token
 * issued up to `revokedAt`, for a disabled account).
 */
export interface Revocation {
  id: string
  userId: string
  /** The session (refresh-token family) whose tokens die; absent: all of the user's tokens so far. */
  sessionId?: string
  /** Epoch milliseconds. */
  revokedAt: number
}

/** Where a page of the feed starts: after `since` (epoch ms), or at `since` after the revocation `after`. */
export interface RevocationCursor {
  since: number
  after?: string
}

/** What the user service's feed answers: the revocations since a time, and its own clock. */
export interface RevocationPage {
  /** In (revokedAt, id) order. */
  revocations: Revocation[]
  /** Epoch milliseconds at the user service when it answered; the next request asks from here. */
  now: number
  /** Present when the page was full: the rest starts exactly here (no overlap needed). */
  next?: Required<RevocationCursor>
}

/** The path of the user service's revocation feed (internal, not routed by the gateway). */
export const REVOCATIONS_PATH = '/internal/v1/revocations'

/**
 * The revocations a verifier knows, kept until no token they could hit can still be valid
 * (`keepMs`: the longest access-token lifetime plus clock tolerance).
 */
export class RevocationList {
  readonly #keepMs: number
  readonly #ids = new Set<string>()
  readonly #sessions = new Map<string, number>()
  readonly #users = new Map<string, number>()
  readonly #entries: Revocation[] = []

  constructor(keepMs = 3600_000 + 60_000) {
    this.#keepMs = keepMs
  }

  get size(): number {
    return this.#ids.size
  }

  add(revocations: Iterable<Revocation>, now = Date.now()): void {
    for (const revocation of revocations) {
      if (this.#ids.has(revocation.id) || revocation.revokedAt + this.#keepMs <= now) continue
      this.#ids.add(revocation.id)
      this.#entries.push(revocation)
      if (revocation.sessionId !== undefined) this.#sessions.set(revocation.sessionId, revocation.revokedAt)
      else this.#users.set(revocation.userId, Math.max(this.#users.get(revocation.userId) ?? 0, revocation.revokedAt))
    }
    this.#prune(now)
  }

  /** True when the token's session was ended, or its user's access was ended after it was issued. */
  isRevoked(identity: Identity): boolean {
    if (identity.sessionId !== undefined && this.#sessions.has(identity.sessionId)) return true
    const userRevokedAt = this.#users.get(identity.userId)
    return userRevokedAt !== undefined && identity.issuedAt.getTime() <= userRevokedAt
  }

  #prune(now: number): void {
    while (this.#entries.length > 0 && (this.#entries[0] as Revocation).revokedAt + this.#keepMs <= now) {
      const old = this.#entries.shift() as Revocation
      this.#ids.delete(old.id)
      if (old.sessionId !== undefined) this.#sessions.delete(old.sessionId)
      else if (this.#users.get(old.userId) === old.revokedAt) this.#users.delete(old.userId)
    }
  }
}

export interface RevocationFeedOptions {
  list: RevocationList
  /** One page of revocations from a cursor (since 0: everything the user service keeps). */
  fetchSince: (cursor: RevocationCursor) => Promise<RevocationPage>
  /** How often to ask; a revocation reaches this verifier within about this long. */
  intervalMs?: number
  /** Called when a poll fails (the user service is down), with how long polls have been failing. */
  onError?: (error: unknown, failingForMs: number) => void
  /** Called on the first success after failures. */
  onRecovered?: (failedForMs: number) => void
}

/** The feed over HTTP: the user service's REVOCATIONS_PATH. */
export function httpRevocationSource(userServiceUrl: string, timeoutMs = 2000, doFetch: typeof fetch = fetch) {
  return async (cursor: RevocationCursor): Promise<RevocationPage> => {
    const url = new URL(REVOCATIONS_PATH, userServiceUrl)
    url.searchParams.set('since', String(cursor.since))
    if (cursor.after !== undefined) url.searchParams.set('after', cursor.after)
    const response = await doFetch(url, { signal: AbortSignal.timeout(timeoutMs) })
    if (!response.ok) {
      await response.body?.cancel()
      throw new Error(`the revocation feed answered HTTP ${response.status}`)
    }
    return (await response.json()) as RevocationPage
  }
}

/**
 * Keeps a RevocationList current by polling the user service. Each request asks from the
 * previous answer's `now` less an overlap (a revocation written by another replica just before
 * that moment may become visible a little later); the list drops the repeats by id. A full page
 * is followed at once from its `next` cursor, so any number of revocations made in the same
 * millisecond (one user's thousands of sessions ended together) are read, never re-read forever.
 */
export class RevocationFeed {
  readonly #o: Required<Pick<RevocationFeedOptions, 'list' | 'fetchSince' | 'intervalMs'>> & RevocationFeedOptions
  #cursor: RevocationCursor = { since: 0 }
  #failingSince: number | undefined
  #timer: NodeJS.Timeout | undefined
  #running: Promise<void> | undefined
  #stopped = false
  /** Epoch ms of the last successful poll (0: none yet). */
  lastSuccess = 0

  static readonly OVERLAP_MS = 5000
  /** Full pages followed in one poll; the rest waits for the next poll. */
  static readonly MAX_PAGES_PER_POLL = 100

  constructor(options: RevocationFeedOptions) {
    this.#o = { intervalMs: 1000, ...options }
  }

  /** Polls once now (a failure is reported, not thrown) and then every interval. */
  async start(): Promise<void> {
    await this.pollOnce()
    this.#schedule()
  }

  async pollOnce(): Promise<void> {
    try {
      for (let pages = 0; pages < RevocationFeed.MAX_PAGES_PER_POLL; pages++) {
        const page = await this.#o.fetchSince(this.#cursor)
        this.#o.list.add(page.revocations)
        if (page.next === undefined) {
          this.#cursor = { since: Math.max(0, page.now - RevocationFeed.OVERLAP_MS) }
          break
        }
        this.#cursor = page.next
      }
      this.lastSuccess = Date.now()
      if (this.#failingSince !== undefined) this.#o.onRecovered?.(this.lastSuccess - this.#failingSince)
      this.#failingSince = undefined
    } catch (error) {
      this.#failingSince ??= Date.now()
      this.#o.onError?.(error, Date.now() - this.#failingSince)
    }
  }

  #schedule(): void {
    if (this.#stopped) return
    this.#timer = setTimeout(() => {
      this.#running = this.pollOnce().finally(() => this.#schedule())
    }, this.#o.intervalMs)
    this.#timer.unref()
  }

  async stop(): Promise<void> {
    this.#stopped = true
    clearTimeout(this.#timer)
    await this.#running
  }
}

export interface UserServiceTrustOptions {
  config: { USER_SERVICE_URL: string; REVOCATION_POLL_INTERVAL_MS: number; USER_SERVICE_WAIT_SECONDS: number }
  logger: { warn: (object: object, message: string) => void; info: (object: object, message: string) => void }
  /** The process's graceful shutdown: the feed stops with it. */
  shutdown: { add: (closer: { name: string; close: () => Promise<void> }) => void }
}

/**
 * What every service needs from the user service to check access tokens: its signing keys (the
 * JWKS, cached) and its revocations, polled from now until shutdown (a first poll that fails,
 * the user service still starting, is retried each interval).
 */
export async function userServiceTrust(options: UserServiceTrustOptions): Promise<{
  resolveKey: PublicKeyResolver
  revocations: RevocationList
}> {
  const userServiceUrl = options.config.USER_SERVICE_URL
  const revocations = new RevocationList()
  let lastWarning = 0
  const feed = new RevocationFeed({
    list: revocations,
    fetchSince: httpRevocationSource(userServiceUrl),
    intervalMs: options.config.REVOCATION_POLL_INTERVAL_MS,
    onError: (error, failingForMs) => {
      // Once, then once a minute: the user service may be down for a while.
      if (Date.now() - lastWarning < 60_000) return
      lastWarning = Date.now()
      options.logger.warn(
        { err: error, failingForMs },
        'cannot read access revocations from the user service; tokens revoked meanwhile are still accepted here'
      )
    },
    onRecovered: (failedForMs) => {
      lastWarning = 0
      options.logger.info({ failedForMs }, 'access revocations are read again')
    }
  })
  const resolveKey = jwksKeyResolver({ url: new URL('/.well-known/jwks.json', userServiceUrl).toString() })
  // The keys and the revocations are fetched before the service serves, retried while the user
  // service is not reachable yet (it may be starting beside this one, its name not yet in DNS)
  // for up to USER_SERVICE_WAIT_SECONDS: the first requests then pay for neither. After that the
  // service starts anyway and fetches both when needed.
  const deadline = Date.now() + options.config.USER_SERVICE_WAIT_SECONDS * 1000
  for (;;) {
    const keys = await resolveKey('').then(
      () => true,
      () => false
    )
    await feed.pollOnce()
    if ((keys && feed.lastSuccess > 0) || Date.now() >= deadline) break
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
  await feed.start()
  options.shutdown.add({ name: 'revocation feed', close: () => feed.stop() })
  return { resolveKey, revocations }
}
