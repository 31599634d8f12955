// Live order status: one WebSocket per tab to the gateway's /graphql (the graphql-transport-ws
// protocol of the graphql-ws library), shared by every subscription on the page, opened while
// something listens and closed when nothing does or the shopper signs out.
import { useEffect, useRef, useState } from 'preact/hooks'
import { session } from '../session.js'
import { liveAccessToken } from './client.js'
import { ORDER_UPDATED } from './operations.js'
import type { OrderStatus } from './types.js'

export interface OrderUpdate {
  id: string
  status: OrderStatus
  updatedAt: string
}

interface Listener {
  orderId: string | undefined
  onUpdate: (update: OrderUpdate) => void
  /** (Re)connected: what happened while the connection was down must be read again. */
  onResync: () => void
  /** The gateway refused this subscription (an order that is not the shopper's): not asked for again. */
  refused?: boolean
}

/** Close codes after which trying again at once is pointless (see the gateway's live/connections.ts). */
const REFUSED = new Set([4400, 4403, 4406, 4409, 4429])
const UNAUTHORIZED = 4401
const MAX_DELAY_MS = 30_000

class LiveOrders {
  readonly #listeners = new Map<string, Listener>()
  #socket: WebSocket | undefined
  #acknowledged = false
  #failures = 0
  #retry: ReturnType<typeof setTimeout> | undefined
  #nextId = 1
  readonly #onState = new Set<() => void>()

  constructor() {
    let user = session.get()?.user.id
    session.subscribe((current) => {
      // A renewed token changes nothing here (the gateway closes the socket with 4401 when the
      // token it was opened with expires); signing out, or in as someone else, ends the connection.
      if (current?.user.id === user) return
      user = current?.user.id
      this.#close()
      if (current !== null && this.#listeners.size > 0) void this.#connect(false)
    })
  }

  get connected(): boolean {
    return this.#acknowledged
  }

  onStateChange(listener: () => void): () => void {
    this.#onState.add(listener)
    return () => this.#onState.delete(listener)
  }

  listen(listener: Listener): () => void {
    const id = String(this.#nextId++)
    this.#listeners.set(id, listener)
    if (this.#socket === undefined && this.#retry === undefined) void this.#connect(false)
    else if (this.#acknowledged) this.#start(id, listener)
    return () => {
      this.#listeners.delete(id)
      if (this.#acknowledged) this.#send({ id, type: 'complete' })
      if (this.#listeners.size === 0) this.#close()
    }
  }

  #send(message: object): void {
    if (this.#socket?.readyState === WebSocket.OPEN) this.#socket.send(JSON.stringify(message))
  }

  #start(id: string, listener: Listener): void {
    if (listener.refused === true) return
    this.#send({
      id,
      type: 'subscribe',
      payload: { query: ORDER_UPDATED, variables: listener.orderId === undefined ? {} : { id: listener.orderId } }
    })
    listener.onResync()
  }

  #setState(acknowledged: boolean): void {
    this.#acknowledged = acknowledged
    for (const listener of this.#onState) listener()
  }

  async #connect(refused: boolean): Promise<void> {
    this.#retry = undefined
    let token: string | undefined
    try {
      token = await liveAccessToken(refused)
    } catch {
      // The shop could not be reached to renew the token: a failed attempt, tried again later.
      if (this.#socket === undefined && this.#retry === undefined && this.#listeners.size > 0) this.#retryLater(false, 1006)
      return
    }
    // Signed out (or the session could not be renewed), or nobody listens any more.
    if (token === undefined || this.#listeners.size === 0 || this.#socket !== undefined) return
    const socket = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`, 'graphql-transport-ws')
    this.#socket = socket
    socket.onopen = () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }))
    socket.onmessage = (event: MessageEvent<string>) => {
      let message: { type?: string; id?: string; payload?: { data?: { orderUpdated?: OrderUpdate } } }
      try {
        message = JSON.parse(event.data)
      } catch {
        return
      }
      if (message.type === 'connection_ack') {
        this.#failures = 0
        this.#setState(true)
        for (const [id, listener] of this.#listeners) this.#start(id, listener)
      } else if (message.type === 'next' && message.id !== undefined) {
        const update = message.payload?.data?.orderUpdated
        if (update !== undefined) this.#listeners.get(message.id)?.onUpdate(update)
      } else if (message.type === 'error' && message.id !== undefined) {
        // This subscription alone was refused; the others on the socket go on.
        const listener = this.#listeners.get(message.id)
        if (listener !== undefined) listener.refused = true
      } else if (message.type === 'ping') {
        socket.send(JSON.stringify({ type: 'pong' }))
      }
    }
    socket.onclose = (event: CloseEvent) => {
      if (this.#socket !== socket) return
      const wasAcknowledged = this.#acknowledged
      this.#socket = undefined
      this.#setState(false)
      if (this.#listeners.size === 0) return
      if (event.code === UNAUTHORIZED) {
        // The access token expired or was refused: renew it, then come straight back.
        void this.#connect(true)
        return
      }
      this.#retryLater(wasAcknowledged, event.code)
    }
  }

  /** Back-off from 1 s to 30 s with jitter, so a crowd cut off together does not come back together. */
  #retryLater(wasAcknowledged: boolean, code: number): void {
    this.#failures = wasAcknowledged ? 1 : this.#failures + 1
    const delay = REFUSED.has(code) ? MAX_DELAY_MS : Math.min(MAX_DELAY_MS, 1000 * 2 ** (this.#failures - 1)) * (0.75 + Math.random() * 0.5)
    this.#retry = setTimeout(() => void this.#connect(false), delay)
  }

  #close(): void {
    clearTimeout(this.#retry)
    this.#retry = undefined
    const socket = this.#socket
    this.#socket = undefined
    if (socket !== undefined) {
      socket.onclose = null
      socket.close(1000)
    }
    if (this.#acknowledged) this.#setState(false)
  }
}

const live = new LiveOrders()

/**
 * Follows one order (an id) or all of the signed-in shopper's orders: `onUpdate` for each status
 * change as it happens, `onResync` whenever the connection (re)starts — the page reloads its data
 * then, since changes made while it was down were not pushed. While the live connection is down,
 * the page also reloads when the window regains focus (a laptop waking up, a proxy that refuses
 * WebSockets — reconnecting goes on meanwhile, backing off to once every 30 s).
 * Returns whether updates are arriving live.
 */
export function useOrderUpdates(orderId: string | undefined, onUpdate: (update: OrderUpdate) => void, onResync: () => void): boolean {
  const handlers = useRef({ onUpdate, onResync })
  handlers.current = { onUpdate, onResync }
  const [connected, setConnected] = useState(live.connected)
  useEffect(() => {
    const stop = live.listen({
      orderId,
      onUpdate: (update) => handlers.current.onUpdate(update),
      // Even the first start: the order may have changed between the page's load and now.
      onResync: () => handlers.current.onResync()
    })
    const unwatch = live.onStateChange(() => setConnected(live.connected))
    const onFocus = () => {
      if (!live.connected && document.visibilityState === 'visible') handlers.current.onResync()
    }
    window.addEventListener('focus', onFocus)
    document.addEventListener('visibilitychange', onFocus)
    return () => {
      stop()
      unwatch()
      window.removeEventListener('focus', onFocus)
      document.removeEventListener('visibilitychange', onFocus)
    }
  }, [orderId])
  return connected
}
