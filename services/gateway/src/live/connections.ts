import type { IncomingMessage } from 'node:http'
import { type Identity, InvalidTokenError, KeysUnavailableError, type RevocationList } from '@polyshop/auth'
import type { Logger } from 'pino'

/** The part of a `ws` WebSocket the gateway uses. */
export interface LiveSocket {
  readonly readyState: number
  readonly protocol: string
  /** Bytes queued for the client and not yet handed to the kernel. */
  readonly bufferedAmount: number
  send(data: string): void
  close(code?: number, reason?: string): void
  terminate(): void
  ping(): void
  on(event: 'message', listener: (data: Buffer, isBinary: boolean) => void): this
  on(event: 'pong' | 'close', listener: () => void): this
}

export const OPEN = 1

/**
 * Close codes (graphql-transport-ws uses 4400-4499 like HTTP statuses): a client renews its
 * token and reconnects after 4401, reconnects with back-off after 1013 and 1001, and gives up
 * after 4403.
 */
export const CLOSE = {
  IDLE: 1000,
  GOING_AWAY: 1001,
  INTERNAL_ERROR: 1011,
  TRY_AGAIN_LATER: 1013,
  BAD_REQUEST: 4400,
  UNAUTHORIZED: 4401,
  SUBPROTOCOL_NOT_ACCEPTABLE: 4406,
  INIT_TIMEOUT: 4408,
  SUBSCRIBER_EXISTS: 4409,
  TOO_MANY_INIT_REQUESTS: 4429
} as const

export interface LiveLimits {
  /** Open WebSocket connections this gateway process accepts. */
  maxConnections: number
  /** Subscriptions one connection may hold. */
  perConnection: number
  /** Subscriptions one user may hold across connections (to this process). */
  perUser: number
  /** A connection without a subscription is closed after this long. */
  idleMs: number
  /** A connection must say who it is (connection_init) within this long. */
  initTimeoutMs: number
  /** WebSocket pings; a peer that has not answered the previous one by the next is dropped. */
  pingIntervalMs: number
}

export interface LiveConnectionsOptions {
  verify: (token: string) => Promise<Identity>
  revocations?: RevocationList | undefined
  limits: LiveLimits
  logger: Logger
}

/** Why a connection may not subscribe right now. */
export class SubscriptionLimitError extends Error {
  override name = 'SubscriptionLimitError'
}

/** One WebSocket of a signed-in client: who it is, how many subscriptions it holds, its timers. */
export class LiveConnection {
  identity: Identity | undefined
  subscriptions = 0
  readonly socket: LiveSocket
  alive = true
  idleTimer: NodeJS.Timeout | undefined
  expiryTimer: NodeJS.Timeout | undefined
  initTimer: NodeJS.Timeout | undefined

  constructor(socket: LiveSocket) {
    this.socket = socket
  }

  close(code: number, reason: string): void {
    if (this.socket.readyState === OPEN) this.socket.close(code, reason)
  }

  /**
   * For a client that stopped reading: its close frame waits behind everything queued, so the
   * socket is cut if the closing handshake has not finished within a second.
   */
  drop(code: number, reason: string): void {
    this.close(code, reason)
    setTimeout(() => this.socket.terminate(), 1000).unref()
  }
}

function bearer(payload: unknown): string | undefined {
  if (typeof payload !== 'object' || payload === null) return undefined
  const record = payload as Record<string, unknown>
  const nested = typeof record.headers === 'object' && record.headers !== null ? (record.headers as Record<string, unknown>) : {}
  const header = record.authorization ?? record.Authorization ?? nested.authorization ?? nested.Authorization
  if (typeof header !== 'string' || !header.startsWith('Bearer ')) return undefined
  const token = header.slice('Bearer '.length).trim()
  return token === '' ? undefined : token
}

/**
 * The gateway's live WebSocket connections: a connection says who it is in its
 * connection_init payload (`{ "authorization": "Bearer <access token>" }`, the same token as
 * HTTP) within `initTimeoutMs` or is closed; it is closed when that token expires or its session is revoked (checked
 * every second), when it holds no subscription for `idleMs`, or when its peer stops answering
 * pings. Counts subscriptions per connection and per user against the limits.
 */
export class LiveConnections {
  readonly #o: LiveConnectionsOptions
  readonly #log: Logger
  readonly #connections = new Map<LiveSocket, LiveConnection>()
  readonly #perUser = new Map<string, number>()
  readonly #pings: NodeJS.Timeout
  readonly #revocationSweep: NodeJS.Timeout

  constructor(options: LiveConnectionsOptions) {
    this.#o = options
    this.#log = options.logger.child({ component: 'live-connections' })
    this.#pings = setInterval(() => this.#ping(), options.limits.pingIntervalMs).unref()
    this.#revocationSweep = setInterval(() => this.#sweepRevoked(), 1000).unref()
  }

  get size(): number {
    return this.#connections.size
  }

  /** ws's verifyClient: past the connection limit, the upgrade is refused with 503 before any WebSocket exists. */
  readonly verifyClient = (_info: { req: IncomingMessage }, accept: (ok: boolean, code?: number, message?: string) => void): void => {
    if (this.#connections.size >= this.#o.limits.maxConnections) accept(false, 503, 'Too many live connections; retry later')
    else accept(true)
  }

  /** Takes a new WebSocket in hand: it has `initTimeoutMs` to say who it is (authenticate). */
  track(socket: LiveSocket): LiveConnection {
    const connection = new LiveConnection(socket)
    this.#connections.set(socket, connection)
    connection.initTimer = setTimeout(
      () => connection.close(CLOSE.INIT_TIMEOUT, 'Connection initialisation timeout'),
      this.#o.limits.initTimeoutMs
    )
    socket.on('pong', () => {
      connection.alive = true
    })
    socket.on('close', () => this.#forget(connection))
    return connection
  }

  /** Counts a new subscription of the connection, or refuses it past a limit. */
  addSubscription(connection: LiveConnection): void {
    const { userId } = connection.identity as Identity
    const { perConnection, perUser } = this.#o.limits
    if (connection.subscriptions >= perConnection) {
      throw new SubscriptionLimitError(`This connection already holds ${perConnection} subscriptions, the most it may.`)
    }
    const ofUser = this.#perUser.get(userId) ?? 0
    if (ofUser >= perUser) throw new SubscriptionLimitError(`You already hold ${perUser} subscriptions, the most one user may.`)
    this.#perUser.set(userId, ofUser + 1)
    connection.subscriptions++
    clearTimeout(connection.idleTimer)
  }

  removeSubscription(connection: LiveConnection): void {
    if (connection.subscriptions === 0) return
    connection.subscriptions--
    this.#decrementUser((connection.identity as Identity).userId)
    if (connection.subscriptions === 0) this.#idle(connection)
  }

  /** Shutdown: every client is told the server is going away (they reconnect to another replica). */
  closeAll(): void {
    clearInterval(this.#pings)
    clearInterval(this.#revocationSweep)
    for (const connection of this.#connections.values()) connection.close(CLOSE.GOING_AWAY, 'The server is restarting')
  }

  /**
   * Checks the token of connection_init's payload (`{ "authorization": "Bearer <access token>" }`):
   * true when the connection may go on; otherwise it is closed with the reason.
   */
  async authenticate(connection: LiveConnection, payload: unknown): Promise<boolean> {
    clearTimeout(connection.initTimer)
    const token = bearer(payload)
    const refuse = (code: number, reason: string) => {
      connection.close(code, reason)
      return false
    }
    if (token === undefined)
      return refuse(CLOSE.UNAUTHORIZED, 'Sign in: connection_init needs { "authorization": "Bearer <access token>" }')
    let identity: Identity
    try {
      identity = await this.#o.verify(token)
    } catch (error) {
      if (error instanceof KeysUnavailableError) return refuse(CLOSE.TRY_AGAIN_LATER, 'Access tokens cannot be checked right now')
      if (error instanceof InvalidTokenError) return refuse(CLOSE.UNAUTHORIZED, `The access token was refused: ${error.message}`)
      this.#log.error({ err: error }, 'token check failed')
      return refuse(CLOSE.INTERNAL_ERROR, 'Internal error')
    }
    if (connection.socket.readyState !== OPEN) return false
    connection.identity = identity
    // setTimeout's longest delay is 2^31-1 ms; access tokens live minutes.
    const untilExpiry = Math.min(2 ** 31 - 1, Math.max(0, identity.expiresAt.getTime() - Date.now()))
    connection.expiryTimer = setTimeout(() => connection.close(CLOSE.UNAUTHORIZED, 'The access token expired'), untilExpiry)
    this.#idle(connection)
    return true
  }

  #idle(connection: LiveConnection): void {
    clearTimeout(connection.idleTimer)
    connection.idleTimer = setTimeout(() => connection.close(CLOSE.IDLE, 'Idle: no subscription'), this.#o.limits.idleMs)
  }

  #forget(connection: LiveConnection): void {
    if (!this.#connections.delete(connection.socket)) return
    clearTimeout(connection.initTimer)
    clearTimeout(connection.idleTimer)
    clearTimeout(connection.expiryTimer)
    // mercurius ends the subscriptions (and so removeSubscription) as well; the counts go once.
    if (connection.identity !== undefined)
      for (; connection.subscriptions > 0; connection.subscriptions--) this.#decrementUser(connection.identity.userId)
  }

  #decrementUser(userId: string): void {
    const left = (this.#perUser.get(userId) ?? 1) - 1
    if (left <= 0) this.#perUser.delete(userId)
    else this.#perUser.set(userId, left)
  }

  #ping(): void {
    for (const connection of this.#connections.values()) {
      if (!connection.alive) {
        connection.socket.terminate()
        continue
      }
      connection.alive = false
      connection.socket.ping()
    }
  }

  #sweepRevoked(): void {
    const revocations = this.#o.revocations
    if (revocations === undefined || revocations.size === 0) return
    for (const connection of this.#connections.values()) {
      if (connection.identity !== undefined && revocations.isRevoked(connection.identity)) {
        connection.close(CLOSE.UNAUTHORIZED, 'The session was ended')
      }
    }
  }
}
