import type { IncomingMessage } from 'node:http'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import {
  type ASTVisitor,
  type DocumentNode,
  type ExecutionResult,
  GraphQLError,
  type GraphQLSchema,
  getOperationAST,
  parse,
  specifiedRules,
  subscribe,
  type ValidationContext,
  type ValidationRule,
  validate
} from 'graphql'
import type { Logger } from 'pino'
import { CLOSE, type LiveConnections, type LiveSocket, OPEN } from './connections.js'

/** The protocol of the `graphql-ws` library: https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md */
export const GRAPHQL_TRANSPORT_WS = 'graphql-transport-ws'

export interface GraphqlWsOptions {
  /** The executable schema (mercurius's, with Subscription's resolvers attached). */
  schema: () => GraphQLSchema
  /** The rules an HTTP operation is validated with, beyond GraphQL's own. */
  validationRules: readonly ValidationRule[]
  connections: LiveConnections
  logger: Logger
  /** A resolver's error as the client may see it (code and words, nothing internal). */
  publicError: (error: unknown) => GraphQLError
  /** Bytes the socket may have queued for a client before the client counts as fallen behind. */
  maxBufferedBytes: number
}

/**
 * A route constraint: requests that ask to upgrade to WebSocket (GET /graphql gets two routes,
 * one for them and mercurius's for the rest). https://fastify.dev/docs/latest/Reference/Routes/#constraints
 */
type ConstraintStrategy = Parameters<FastifyInstance['addConstraintStrategy']>[0]
type RouteHandler = NonNullable<ReturnType<ReturnType<ConstraintStrategy['storage']>['get']>>

export const WEBSOCKET_UPGRADE: ConstraintStrategy = {
  name: 'upgrade',
  storage() {
    const stores = new Map<string, RouteHandler>()
    return {
      get: (value: string) => stores.get(value) ?? null,
      set: (value: string, store: RouteHandler) => {
        stores.set(value, store)
      }
    }
  },
  deriveConstraint: (request: IncomingMessage) => request.headers.upgrade?.toLowerCase(),
  // Other requests (no upgrade header, or another protocol) go to the unconstrained route.
  mustMatchWhenDerived: false
}

/** For the HTTP endpoint: a subscription there is refused at validation, with where to go instead. */
export function subscriptionsOverWebSocketOnly(context: ValidationContext): ASTVisitor {
  return {
    OperationDefinition(node) {
      if (node.operation === 'subscription') {
        context.reportError(
          new GraphQLError(`Subscriptions run over WebSocket: GET /graphql with the ${GRAPHQL_TRANSPORT_WS} subprotocol.`, { nodes: node })
        )
      }
    }
  }
}

interface ClientMessage {
  type: string
  id?: unknown
  payload?: { query?: unknown; variables?: unknown; operationName?: unknown } | null
}

const coded = (error: GraphQLError, code: string) =>
  new GraphQLError(error.message, { nodes: error.nodes, extensions: { ...error.extensions, code: error.extensions.code ?? code } })

/**
 * The gateway's side of graphql-transport-ws on GET /graphql: connection_init with the access
 * token, then subscriptions (validated by the same rules as HTTP operations), each streamed as
 * `next` messages until `complete`. Written here rather than taken from mercurius, whose
 * connection keeps two 16 KiB event queues per socket (Node's events.on) — two thirds of
 * what a subscriber costs — and leaves subscriptions unvalidated; this one also watches the
 * socket's send buffer, so a client that stops reading is disconnected rather than buffered
 * for without end. Queries and mutations stay on HTTP.
 */
export function graphqlWsHandler(o: GraphqlWsOptions) {
  // Clients send the same few subscriptions: each is parsed and validated once, and its
  // document shared by every subscriber (the latest 100 texts of up to 4 KiB are kept).
  const cache = new Map<string, DocumentNode | readonly GraphQLError[]>()
  const documents = (query: string): DocumentNode | readonly GraphQLError[] => {
    const known = cache.get(query)
    if (known !== undefined) return known
    let checked: DocumentNode | readonly GraphQLError[]
    try {
      const document = parse(query)
      const errors = validate(o.schema(), document, [...specifiedRules, ...o.validationRules])
      checked = errors.length > 0 ? errors.map((error) => coded(error, 'GRAPHQL_VALIDATION_FAILED')) : document
    } catch (error) {
      checked = [coded(error as GraphQLError, 'GRAPHQL_PARSE_FAILED')]
    }
    if (query.length <= 4096) {
      if (cache.size >= 100) cache.delete(cache.keys().next().value as string)
      cache.set(query, checked)
    }
    return checked
  }
  return (socket: LiveSocket, request: FastifyRequest): void => {
    if (socket.protocol !== GRAPHQL_TRANSPORT_WS) {
      socket.close(CLOSE.SUBPROTOCOL_NOT_ACCEPTABLE, `Subprotocol not acceptable: use ${GRAPHQL_TRANSPORT_WS}`)
      return
    }
    const connection = o.connections.track(socket)
    /** Subscriptions by id; null while one is being set up. */
    const active = new Map<string, AsyncGenerator<ExecutionResult> | null>()
    let initialised = false

    const send = (message: object): void => {
      if (socket.readyState !== OPEN) return
      if (socket.bufferedAmount > o.maxBufferedBytes) {
        connection.drop(CLOSE.TRY_AGAIN_LATER, 'Fell behind the order updates; reconnect and reload')
        return
      }
      socket.send(JSON.stringify(message))
    }
    const fail = (id: string, errors: readonly GraphQLError[]) =>
      send({ id, type: 'error', payload: errors.map((error) => error.toJSON()) })

    const start = async (id: string, document: DocumentNode, message: ClientMessage): Promise<void> => {
      const variables = message.payload?.variables
      const operationName = message.payload?.operationName
      active.set(id, null)
      const result = await subscribe({
        schema: o.schema(),
        document,
        contextValue: { live: connection, request },
        variableValues: typeof variables === 'object' && variables !== null ? (variables as Record<string, unknown>) : undefined,
        operationName: typeof operationName === 'string' ? operationName : undefined
      })
      const stream = Symbol.asyncIterator in result ? result : undefined
      // Completed by the client, or the socket closed, while the resolver was at work.
      if (active.get(id) !== null || socket.readyState !== OPEN) {
        await stream?.return?.(undefined)
        return
      }
      if (stream === undefined) {
        active.delete(id)
        fail(id, ((result as ExecutionResult).errors ?? []).map(o.publicError))
        return
      }
      active.set(id, stream)
      try {
        for await (const value of stream) {
          send({ id, type: 'next', payload: value.errors === undefined ? value : { ...value, errors: value.errors.map(o.publicError) } })
        }
        if (active.delete(id)) send({ id, type: 'complete' })
      } catch (error) {
        if (active.delete(id)) fail(id, [o.publicError(error)])
      }
    }

    const subscribeMessage = async (message: ClientMessage): Promise<void> => {
      if (connection.identity === undefined) return connection.close(CLOSE.UNAUTHORIZED, 'Unauthorized')
      const { id } = message
      const query = message.payload?.query
      if (typeof id !== 'string' || id === '' || id.length > 128 || typeof query !== 'string') {
        return connection.close(CLOSE.BAD_REQUEST, 'Invalid message received')
      }
      if (active.has(id)) return connection.close(CLOSE.SUBSCRIBER_EXISTS, `Subscriber for ${id} already exists`)
      const checked = documents(query)
      if (Array.isArray(checked)) return fail(id, checked)
      const document = checked as DocumentNode
      const operation = getOperationAST(
        document,
        typeof message.payload?.operationName === 'string' ? message.payload.operationName : undefined
      )
      if (operation?.operation !== 'subscription') {
        const refusal = 'Only subscriptions run over this socket: send queries and mutations as HTTP POST /graphql.'
        return fail(id, [new GraphQLError(refusal, { extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })])
      }
      await start(id, document, message)
    }

    const onMessage = async (data: Buffer): Promise<void> => {
      let message: ClientMessage
      try {
        message = JSON.parse(data.toString('utf8'))
      } catch {
        return connection.close(CLOSE.BAD_REQUEST, 'Invalid message received')
      }
      if (typeof message !== 'object' || message === null || typeof message.type !== 'string') {
        return connection.close(CLOSE.BAD_REQUEST, 'Invalid message received')
      }
      switch (message.type) {
        case 'connection_init':
          if (initialised) return connection.close(CLOSE.TOO_MANY_INIT_REQUESTS, 'Too many initialisation requests')
          initialised = true
          if (await o.connections.authenticate(connection, message.payload)) send({ type: 'connection_ack' })
          return
        case 'ping':
          return send({ type: 'pong' })
        case 'pong':
          return
        case 'subscribe':
          return subscribeMessage(message)
        case 'complete': {
          const stream = typeof message.id === 'string' ? active.get(message.id) : undefined
          if (typeof message.id === 'string') active.delete(message.id)
          await stream?.return?.(undefined)
          return
        }
        default:
          return connection.close(CLOSE.BAD_REQUEST, `Invalid message type "${message.type.slice(0, 40)}"`)
      }
    }

    socket.on('message', (data) => {
      onMessage(data).catch((error: unknown) => {
        o.logger.error({ err: error }, 'live connection failed')
        connection.close(CLOSE.INTERNAL_ERROR, 'Internal error')
      })
    })
    socket.on('close', () => {
      for (const stream of active.values()) void stream?.return?.(undefined)
      active.clear()
    })
  }
}
