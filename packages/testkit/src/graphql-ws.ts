import WebSocket from 'ws'

/** A message the server sent on a graphql-transport-ws connection. */
export interface WsMessage {
  type: string
  id?: string
  payload?: unknown
}

export interface GraphqlWsClient {
  socket: WebSocket
  /** Every message received, in order. */
  messages: WsMessage[]
  /** Resolves when the server acknowledged connection_init (rejects if the connection closes first). */
  acknowledged: Promise<void>
  /** Resolves with the close code and reason. */
  closed: Promise<{ code: number; reason: string }>
  subscribe(id: string, query: string, variables?: Record<string, unknown>): void
  /** Ends one subscription (the client's `complete`). */
  complete(id: string): void
  /** The next message matching `accept`, waiting up to `timeoutMs`. */
  next(accept: (message: WsMessage) => boolean, timeoutMs?: number): Promise<WsMessage>
  close(): void
}

/**
 * A graphql-transport-ws client for tests and the bench (the protocol of the `graphql-ws`
 * library, which browsers' clients speak): connects, sends connection_init with `payload`
 * (unless `payload` is null), answers pings.
 */
export function graphqlWs(url: string, payload: Record<string, unknown> | null): GraphqlWsClient {
  const socket = new WebSocket(url, 'graphql-transport-ws')
  const messages: WsMessage[] = []
  const waiters = new Set<{ accept: (message: WsMessage) => boolean; resolve: (message: WsMessage) => void }>()
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() }))
  })
  socket.on('error', () => {})
  const acknowledged = new Promise<void>((resolve, reject) => {
    socket.on('open', () => {
      if (payload !== null) socket.send(JSON.stringify({ type: 'connection_init', payload }))
    })
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString()) as WsMessage
      messages.push(message)
      if (message.type === 'connection_ack') resolve()
      if (message.type === 'ping') socket.send(JSON.stringify({ type: 'pong' }))
      for (const waiter of [...waiters]) {
        if (waiter.accept(message)) {
          waiters.delete(waiter)
          waiter.resolve(message)
        }
      }
    })
    void closed.then(({ code, reason }) => reject(new Error(`closed before connection_ack: ${code} ${reason}`)))
  })
  acknowledged.catch(() => {})
  return {
    socket,
    messages,
    acknowledged,
    closed,
    subscribe: (id, query, variables) => socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query, variables } })),
    complete: (id) => socket.send(JSON.stringify({ id, type: 'complete' })),
    next: (accept, timeoutMs = 5000) => {
      const seen = messages.find(accept)
      if (seen !== undefined) {
        messages.splice(messages.indexOf(seen), 1)
        return Promise.resolve(seen)
      }
      return new Promise((resolve, reject) => {
        const waiter = {
          accept,
          resolve: (message: WsMessage) => {
            clearTimeout(timer)
            messages.splice(messages.indexOf(message), 1)
            resolve(message)
          }
        }
        const timer = setTimeout(() => {
          waiters.delete(waiter)
          reject(new Error(`no matching message within ${timeoutMs} ms; received: ${JSON.stringify(messages)}`))
        }, timeoutMs)
        waiters.add(waiter)
      })
    },
    close: () => socket.close()
  }
}
