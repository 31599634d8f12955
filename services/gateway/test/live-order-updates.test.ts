import { randomUUID } from 'node:crypto'
import { Code, ConnectError } from '@connectrpc/connect'
import { RevocationList } from '@polyshop/auth'
import { eventually, type GraphqlWsClient, graphqlWs, type WsMessage } from '@polyshop/testkit'
import t from 'tap'
import WebSocket from 'ws'
import type { OrderUpdate } from '../src/live/order-updates.js'
import { build, sampleOrder } from './helper.js'

const SUBSCRIPTION = 'subscription ($id: ID) { orderUpdated(id: $id) { id userId status updatedAt } }'

/** Waits until `condition` holds (the protocol acknowledges no subscribe: the hub's count says it is registered). */
const until = (condition: () => boolean, what: string) => eventually(async () => (condition() ? true : undefined), 5000, what)

async function live(t: { teardown: (fn: () => unknown) => void }, options: Parameters<typeof build>[1] = {}) {
  const gateway = await build(t, options)
  const address = await gateway.app.listen({ port: 0, host: '127.0.0.1' })
  const url = `${address.replace('http', 'ws')}/graphql`
  const clients: GraphqlWsClient[] = []
  t.teardown(() => {
    for (const client of clients) client.close()
  })
  const connect = (token: string | null) => {
    const client = graphqlWs(url, token === null ? null : { authorization: `Bearer ${token}` })
    clients.push(client)
    return client
  }
  /** A connection of `token`'s holder with one subscription ('1'), registered at the hub. */
  const subscriber = async (token: string) => {
    const client = connect(token)
    await client.acknowledged
    const before = gateway.orderUpdates.size
    client.subscribe('1', SUBSCRIPTION)
    await until(() => gateway.orderUpdates.size === before + 1, 'subscribed')
    return client
  }
  return { ...gateway, url, connect, subscriber }
}

const update = (userId: string, overrides: Partial<OrderUpdate> = {}): OrderUpdate => ({
  id: randomUUID(),
  userId,
  status: 'PAID',
  updatedAt: new Date().toISOString(),
  receivedAt: Date.now(),
  ...overrides
})

const dataOf = (id: string) => (message: WsMessage) => message.id === id && message.type === 'next'
const errorOf = (id: string) => (message: WsMessage) => message.id === id && message.type === 'error'

const subscribed = (hub: { size: number }, count: number) => until(() => hub.size === count, `${count} subscriptions`)

t.test("a user's subscription sees their own orders change, never another user's", async (t) => {
  const gateway = await live(t)
  const ann = randomUUID()
  const bob = randomUUID()
  const client = await gateway.subscriber(gateway.tokens.token(['customer'], ann))

  const bobs = update(bob, { status: 'SHIPPED' })
  const anns = update(ann, { status: 'PAID' })
  gateway.orderUpdates.publish(bobs)
  gateway.orderUpdates.publish(anns)
  const metrics = (await gateway.management.inject({ url: '/metrics' })).body
  t.match(metrics, /^gateway_live_connections\{[^}]*\} 1$/m, 'operators see the open connections')
  t.match(metrics, /^gateway_live_subscriptions\{[^}]*\} 1$/m, 'and subscriptions')
  const received = await client.next(dataOf('1'), 1000)
  t.same(received.payload, { data: { orderUpdated: { id: anns.id, userId: ann, status: 'PAID', updatedAt: anns.updatedAt } } })
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.notOk(
    client.messages.some((message) => JSON.stringify(message).includes(bobs.id)),
    "Bob's order never reaches Ann"
  )
})

t.test('an admin without an id sees every order; with an id, only that order', async (t) => {
  const gateway = await live(t, { orders: { getOrder: () => ({ order: sampleOrder({ id: 'o-7' }) }) } })
  const admin = gateway.connect(gateway.tokens.token(['admin']))
  await admin.acknowledged
  admin.subscribe('all', SUBSCRIPTION)
  admin.subscribe('one', SUBSCRIPTION, { id: 'o-7' })
  await subscribed(gateway.orderUpdates, 2)
  const someone = update(randomUUID())
  const seven = update(randomUUID(), { id: 'o-7', status: 'SHIPPED' })
  gateway.orderUpdates.publish(someone)
  gateway.orderUpdates.publish(seven)
  t.equal(((await admin.next(dataOf('all'))).payload as { data: { orderUpdated: { id: string } } }).data.orderUpdated.id, someone.id)
  t.equal(((await admin.next(dataOf('all'))).payload as { data: { orderUpdated: { id: string } } }).data.orderUpdated.id, 'o-7')
  t.match(await admin.next(dataOf('one')), { payload: { data: { orderUpdated: { id: 'o-7', status: 'SHIPPED' } } } })
  t.equal(gateway.orderCalls.filter((call) => call.method === 'getOrder').length, 1, 'the id was checked once, at subscribe')
})

t.test("subscribing to someone else's order by id is NOT_FOUND, as the query says, and holds nothing", async (t) => {
  const gateway = await live(t, {
    orders: {
      getOrder: () => {
        throw new ConnectError('no such order', Code.NotFound)
      }
    }
  })
  const token = gateway.tokens.token(['customer'])
  const client = gateway.connect(token)
  await client.acknowledged
  client.subscribe('1', SUBSCRIPTION, { id: 'o-someone-else' })
  const error = await client.next(errorOf('1'))
  t.match(error.payload, [{ message: /no such order/i, extensions: { code: 'ORD_NOT_FOUND' } }])
  t.equal(gateway.orderUpdates.size, 0)
  t.equal(gateway.orderCalls[0]?.headers.get('authorization'), `Bearer ${token}`, "the order service decided, with the subscriber's token")
})

t.test('no token, a bad token: the connection is closed with 4401 and never acknowledged', async (t) => {
  const gateway = await live(t)
  const anonymous = gateway.connect(null)
  anonymous.socket.on('open', () => anonymous.socket.send(JSON.stringify({ type: 'connection_init', payload: {} })))
  t.match(await anonymous.closed, { code: 4401, reason: /authorization/ })
  const forged = gateway.connect('not-a-token')
  t.match(await forged.closed, { code: 4401, reason: /refused/ })
  t.notOk([...anonymous.messages, ...forged.messages].some((message) => message.type === 'connection_ack'))
})

t.test('the connection ends when its access token expires', async (t) => {
  const gateway = await live(t)
  const client = await gateway.subscriber(gateway.tokens.shortLivedToken(['customer'], randomUUID(), 1500))
  t.match(await client.closed, { code: 4401, reason: 'The access token expired' })
  await subscribed(gateway.orderUpdates, 0)
  t.equal(gateway.orderUpdates.size, 0, 'its subscription left the hub')
})

t.test("the connection ends within about a second of the user's access being revoked", async (t) => {
  const revocations = new RevocationList()
  const gateway = await live(t, { revocations })
  const userId = randomUUID()
  const client = await gateway.subscriber(gateway.tokens.token(['customer'], userId))
  const revokedAt = Date.now()
  revocations.add([{ id: randomUUID(), userId, revokedAt }])
  const { code, reason } = await client.closed
  t.equal(code, 4401)
  t.equal(reason, 'The session was ended')
  t.ok(Date.now() - revokedAt < 2500, 'closed by the next sweep')
})

t.test('limits: subscriptions per connection and per user, a connection that never says who it is, an idle one', async (t) => {
  const gateway = await live(t, {
    env: {
      LIVE_SUBSCRIPTIONS_PER_CONNECTION: '2',
      LIVE_SUBSCRIPTIONS_PER_USER: '3',
      LIVE_INIT_TIMEOUT_MS: '300',
      LIVE_IDLE_TIMEOUT_MS: '400'
    }
  })
  const userId = randomUUID()
  const token = gateway.tokens.token(['customer'], userId)
  const first = gateway.connect(token)
  await first.acknowledged
  for (const id of ['a', 'b', 'c']) first.subscribe(id, SUBSCRIPTION)
  t.match(await first.next(errorOf('c')), { payload: [{ extensions: { code: 'GW_TOO_MANY_SUBSCRIPTIONS' } }] })
  const second = gateway.connect(token)
  await second.acknowledged
  for (const id of ['d', 'e']) second.subscribe(id, SUBSCRIPTION)
  t.match(await second.next(errorOf('e')), { payload: [{ message: /3 subscriptions/ }] })
  t.equal(gateway.orderUpdates.size, 3)
  // Ending one frees a place.
  first.complete('a')
  await subscribed(gateway.orderUpdates, 2)
  second.subscribe('f', SUBSCRIPTION)
  await subscribed(gateway.orderUpdates, 3)

  const silent = gateway.connect(null)
  t.match(await silent.closed, { code: 4408 })
  const idle = gateway.connect(gateway.tokens.token(['customer']))
  await idle.acknowledged
  t.match(await idle.closed, { code: 1000, reason: /Idle/ })
  await until(() => gateway.liveConnections.size === 2, 'down to the two connections with subscriptions')
  t.equal(first.socket.readyState, first.socket.OPEN, 'the connections with subscriptions stay')
  t.equal(second.socket.readyState, second.socket.OPEN)
})

t.test('a client that falls behind is disconnected (1013) instead of buffered without bound; one order coalesces', async (t) => {
  const gateway = await live(t, { env: { LIVE_PENDING_UPDATES: '5' } })
  const userId = randomUUID()
  const steady = await gateway.subscriber(gateway.tokens.token(['customer'], userId))
  // 50 changes of one order at once: only the newest waits, nothing overflows.
  const id = randomUUID()
  for (let index = 0; index < 50; index++) {
    gateway.orderUpdates.publish(update(userId, { id, status: index === 49 ? 'DELIVERED' : 'SHIPPED' }))
  }
  let last: WsMessage
  do last = await steady.next(dataOf('1'))
  while (!JSON.stringify(last.payload).includes('DELIVERED'))
  t.ok(steady.socket.readyState === steady.socket.OPEN, 'still connected')

  // 50 different orders at once, faster than anyone reads: past 5 waiting, the connection goes.
  for (let index = 0; index < 50; index++) gateway.orderUpdates.publish(update(userId))
  t.match(await steady.closed, { code: 1013, reason: /Fell behind/ })
  t.equal(gateway.orderUpdates.size, 0)
})

t.test('a client that stops reading is let go (1013, then cut) once its send buffer passes LIVE_MAX_BUFFERED_BYTES', async (t) => {
  const gateway = await live(t, { env: { LIVE_MAX_BUFFERED_BYTES: '65536' } })
  const userId = randomUUID()
  const stalled = await gateway.subscriber(gateway.tokens.token(['customer'], userId))
  // The client's TCP socket stops reading: the kernel's buffers fill, then the gateway's.
  const tcp = (stalled.socket as unknown as { _socket: { pause(): void; destroy(): void } })._socket
  tcp.pause()
  let published = 0
  while (gateway.orderUpdates.size > 0 && published < 200_000) {
    for (let index = 0; index < 50; index++, published++) gateway.orderUpdates.publish(update(userId))
    await new Promise((resolve) => setImmediate(resolve))
  }
  t.equal(gateway.orderUpdates.size, 0, `the subscription was ended after ${published} updates, about ${Math.round(published * 0.17)} KiB`)
  // Its close frame waits behind what is queued, unread: the socket is cut a second later.
  await until(() => gateway.liveConnections.size === 0, 'cut')
  tcp.destroy()
})

t.test('subscriptions are validated like queries; queries and mutations do not run over the socket', async (t) => {
  const gateway = await live(t)
  const client = gateway.connect(gateway.tokens.token(['customer']))
  await client.acknowledged
  client.subscribe('1', 'subscription { orderUpdated { id secret } }')
  t.match(await client.next(errorOf('1')), {
    payload: [{ message: /Cannot query field "secret"/, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }]
  })
  client.subscribe('2', '{ categories { id } }')
  t.match(await client.next(errorOf('2')), {
    payload: [{ message: /Only subscriptions/, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }]
  })
  t.equal(gateway.orderUpdates.size, 0)
})

t.test('over HTTP a subscription is refused with a pointer to the WebSocket; GET /graphql queries still work', async (t) => {
  const gateway = await build(t, { product: (app) => app.get('/api/v1/categories', async () => []) })
  const post = await gateway.app.inject({ method: 'POST', url: '/graphql', payload: { query: 'subscription { orderUpdated { id } }' } })
  t.match(post.json(), { errors: [{ message: /Subscriptions run over WebSocket/, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }] })
  const get = await gateway.app.inject({ method: 'GET', url: `/graphql?query=${encodeURIComponent('{ categories { id } }')}` })
  t.same(get.json(), { data: { categories: [] } })
})

t.test('the protocol is held to: subprotocol, init first and once, unique ids, well-formed messages', async (t) => {
  const gateway = await live(t)
  const token = gateway.tokens.token(['customer'])
  const opened = (socket: WebSocket) => new Promise((resolve) => socket.on('open', resolve))

  const otherProtocol = new WebSocket(gateway.url, 'graphql-ws')
  t.match(await new Promise((resolve) => otherProtocol.on('close', (code) => resolve(code))), 4406, 'the legacy protocol: 4406')

  const early = gateway.connect(null)
  await opened(early.socket)
  early.subscribe('1', SUBSCRIPTION)
  t.match(await early.closed, { code: 4401 }, 'subscribe before connection_init: 4401')

  const twice = gateway.connect(token)
  await twice.acknowledged
  twice.socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }))
  t.match(await twice.closed, { code: 4429 }, 'a second connection_init: 4429')

  const duplicate = gateway.connect(token)
  await duplicate.acknowledged
  duplicate.subscribe('same', SUBSCRIPTION)
  duplicate.subscribe('same', SUBSCRIPTION)
  t.match(await duplicate.closed, { code: 4409, reason: 'Subscriber for same already exists' })

  const garbled = gateway.connect(token)
  await garbled.acknowledged
  garbled.socket.send('{not json')
  t.match(await garbled.closed, { code: 4400 })
  await until(() => gateway.orderUpdates.size === 0 && gateway.liveConnections.size === 0, 'all released')
})

t.test('past LIVE_MAX_CONNECTIONS the upgrade is refused with 503', async (t) => {
  const gateway = await live(t, { env: { LIVE_MAX_CONNECTIONS: '1' } })
  const first = gateway.connect(gateway.tokens.token(['customer']))
  await first.acknowledged
  const second = gateway.connect(gateway.tokens.token(['customer']))
  const status = await new Promise<number | undefined>((resolve) => {
    second.socket.on('unexpected-response', (_request, response) => resolve(response.statusCode))
    second.socket.on('open', () => resolve(undefined))
  })
  t.equal(status, 503)
})
