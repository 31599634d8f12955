// End to end on the whole stack of real processes: the journey of journey.ts, then what only host
// processes let a test do: a service outage and every service's drain on SIGTERM.
import { Code, createClient } from '@connectrpc/connect'
import { createGrpcTransport } from '@connectrpc/connect-node'
import { InventoryService, OrderService } from '@polyshop/proto'
import { ADMIN, eventually, graphqlWs, grpcCode, startWholeStack, type WsMessage } from '@polyshop/testkit'
import { MongoClient } from 'mongodb'
import t from 'tap'
import { address, journeyClient, journeyTests } from './journey.js'

interface Product {
  id: string
}

// Many sign-ins from one address (this test): the gateway's per-IP auth limit would refuse them.
// Every shopper of this file comes from one address: the per-client limits on sign-ins and on
// orders (30 a minute) would otherwise refuse this file's own pace (the limits are tested in the gateway's tests).
const stack = await startWholeStack(t, { env: { gateway: { AUTH_RATE_LIMIT_PER_MINUTE: '1000', ORDER_RATE_LIMIT_PER_MINUTE: '1000' } } })
const { api, graphql, register } = journeyClient(stack.gateway)
journeyTests(t, { gateway: stack.gateway, orderGrpc: stack.orderGrpc, mails: async () => stack.mails })

t.test('attack: straight to the product service gRPC port, reservations are refused without the order service token', async (t) => {
  const inventory = createClient(InventoryService, createGrpcTransport({ baseUrl: stack.urls.productGrpc as string }))
  const stock = async () => (await api<{ stock: number }>('/api/v1/products/wool-socks')).body.stock
  const before = await stock()
  const customer = await register('Mallory')
  const reserve = (token?: string) =>
    grpcCode(
      inventory.reserveStock(
        { orderId: `no-such-order-${token?.slice(-6) ?? 'none'}`, lines: [{ productId: 'wool-socks', quantity: 1 }] },
        { timeoutMs: 5000, ...(token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } }) }
      )
    )
  t.equal(await reserve(), Code.Unauthenticated, 'no token: UNAUTHENTICATED')
  t.equal(await reserve(customer.token), Code.Unauthenticated, "a customer's access token: UNAUTHENTICATED (not a service token)")
  t.equal(await grpcCode(inventory.releaseStock({ orderId: 'any' }, { timeoutMs: 5000 })), Code.Unauthenticated, 'release too')
  t.equal(await stock(), before, 'no unit was held')
  const placed = await api<{ status: string }>('/api/v1/orders', {
    method: 'POST',
    token: customer.token,
    headers: { 'idempotency-key': `svc-token-${Date.now()}` },
    body: { items: [{ productId: 'wool-socks', quantity: 1 }], shippingAddress: address }
  })
  t.equal(
    placed.status,
    201,
    `the order service, with its own token, still reserves${placed.status === 201 ? '' : `: ${JSON.stringify(placed.body)}`}`
  )
  t.equal(await stock(), before - 1)
})

t.test('attack: ending access ends it at every service within 2 s (disable, logout, refresh-token reuse)', async (t) => {
  const orders = createClient(OrderService, createGrpcTransport({ baseUrl: stack.orderGrpc }))
  const signIn = async (email: string, password: string) =>
    (
      await api<{ accessToken: string; refreshToken: string; user: { id: string } }>('/api/v1/auth/login', {
        method: 'POST',
        body: { email, password }
      })
    ).body
  // What the token can still do: the user API, an order through the gateway, the order service's own gRPC port.
  const reach = async (token: string) => ({
    me: (await api('/api/v1/users/me', { token })).status,
    order: (
      await api('/api/v1/orders', {
        method: 'POST',
        token,
        headers: { 'idempotency-key': `revoked-${Date.now()}-${Math.random()}` },
        body: { items: [{ productId: 'beanie', quantity: 1 }], shippingAddress: address }
      })
    ).status,
    grpc: await grpcCode(orders.listOrders({}, { headers: { authorization: `Bearer ${token}` }, timeoutMs: 5000 }))
  })
  const refusedEverywhere = async (token: string, what: string) => {
    const started = Date.now()
    const last = await eventually(
      async () => {
        const now = await reach(token)
        return now.me === 401 && now.order === 401 && now.grpc === Code.Unauthenticated ? now : undefined
      },
      10_000,
      what
    )
    const delay = Date.now() - started
    t.ok(delay <= 2000, `${what}: refused by the user service, the gateway and the order service after ${delay} ms`)
    t.same(last, { me: 401, order: 401, grpc: Code.Unauthenticated })
    return delay
  }
  const admin = await signIn(ADMIN.email, ADMIN.password)

  // Disabled by an admin: every token of the account, in every session.
  const victim = await register('Disabled')
  const other = await signIn(victim.email, 'a long enough password')
  t.same(await reach(victim.token), { me: 200, order: 201, grpc: undefined }, 'before: the token works everywhere')
  const disabled = await api(`/api/v1/users/${victim.userId}/disabled`, {
    method: 'POST',
    token: admin.accessToken,
    body: { disabled: true }
  })
  t.equal(disabled.status, 200)
  const delays = [await refusedEverywhere(victim.token, 'disabled account, first session')]
  t.same(await reach(other.accessToken), { me: 401, order: 401, grpc: Code.Unauthenticated }, 'and its other session')

  // Logout of one session: that session's token dies, the user's other session lives.
  const shopper = await register('Logout')
  const second = await signIn(shopper.email, 'a long enough password')
  const first = await signIn(shopper.email, 'a long enough password')
  t.equal(
    (await api('/api/v1/auth/logout', { method: 'POST', token: first.accessToken, body: { refreshToken: first.refreshToken } })).status,
    204
  )
  delays.push(await refusedEverywhere(first.accessToken, 'logged-out session'))
  t.equal((await api('/api/v1/users/me', { token: second.accessToken })).status, 200, 'the other session still works')

  // A rotated refresh token presented again: the session is stolen, its access tokens die.
  const theft = await signIn(shopper.email, 'a long enough password')
  const rotated = await api<{ accessToken: string }>('/api/v1/auth/refresh', { method: 'POST', body: { refreshToken: theft.refreshToken } })
  t.equal(rotated.status, 200)
  const replay = await api('/api/v1/auth/refresh', { method: 'POST', body: { refreshToken: theft.refreshToken } })
  t.equal(replay.status, 401)
  delays.push(await refusedEverywhere(rotated.body.accessToken, 'session of a reused refresh token'))
  t.comment(`revocation delays (ms): ${delays.join(', ')}`)
})

t.test('a profile change reaches the mails, and what a user writes stays inert there', async (t) => {
  const shopper = await register('Profile')
  const changed = await api<{ name: string }>('/api/v1/users/me', {
    method: 'PATCH',
    token: shopper.token,
    body: { name: 'Grace, see https://evil.example/prize' }
  })
  t.equal(changed.status, 200)
  t.equal(
    (await api('/api/v1/users/me', { method: 'PATCH', token: shopper.token, body: { name: 'Ada\r\nBcc: victim@example.com' } })).status,
    400,
    'a name with a line break is refused'
  )
  // The change travels as an event; the order's too, on another topic: order once it has arrived.
  const notificationDb = new MongoClient(stack.databases.notification as string)
  t.teardown(() => notificationDb.close())
  await eventually(
    async () =>
      (
        await notificationDb
          .db()
          .collection('contacts')
          .findOne({ _id: shopper.userId as never })
      )?.name?.startsWith('Grace') === true
        ? true
        : undefined,
    30_000,
    'the notification service to learn the new name'
  )
  const placed = await api('/api/v1/orders', {
    method: 'POST',
    token: shopper.token,
    headers: { 'idempotency-key': `profile-${Date.now()}` },
    body: { items: [{ productId: 'beanie', quantity: 1 }], shippingAddress: address }
  })
  t.equal(placed.status, 201)
  const confirmation = await eventually(
    async () => stack.mails.find((mail) => mail.to.includes(shopper.email) && /is confirmed/.test(mail.raw)),
    60_000,
    'the confirmation'
  )
  t.match(confirmation.raw, /Hello Grace, see hxxps\[:\]\/\/evil\[\.\]example\/prize,/, 'the new name, defanged')
  t.notMatch(confirmation.raw, /https:\/\/evil|evil\.example/, 'no link reaches the mail')
})

t.test(
  'failure: with the product service down the catalog is a quick 503 and the gateway stays healthy; it recovers by itself',
  async (t) => {
    const restart = await stack.stop('product')
    const started = Date.now()
    const down = await api<{ code: string; status: number }>('/api/v1/products/beanie')
    t.equal(down.status, 503)
    t.equal(down.headers.get('content-type')?.split(';')[0], 'application/problem+json')
    t.equal(down.body.code, 'GW_UPSTREAM_UNAVAILABLE')
    const viaGraphql = await graphql('{ products(first: 1) { items { id } } }')
    t.equal(viaGraphql.errors?.[0]?.extensions.code, 'GW_UPSTREAM_UNAVAILABLE')
    t.ok(Date.now() - started < 3000, `answered in ${Date.now() - started} ms, within the deadline`)
    t.equal((await api('/healthz')).status, 200)
    t.equal((await api('/readyz')).status, 503, 'readiness names the missing service')

    await restart()
    const back = await eventually(
      async () => {
        const answer = await api<Product>('/api/v1/products/beanie')
        return answer.status === 200 ? answer : undefined
      },
      30_000,
      'the catalog through the same gateway process'
    )
    t.equal(back.body.id, 'beanie')
    t.equal(stack.processes.gateway?.child.exitCode, null, 'the gateway was never restarted')
  }
)

t.test("live: an admin's status changes (REST and GraphQL) reach the order's subscription and the admin's all-orders one", async (t) => {
  const customer = await register('Quinn')
  const admin = (await api<{ accessToken: string }>('/api/v1/auth/login', { method: 'POST', body: ADMIN })).body.accessToken
  const placed = await api<{ id: string }>('/api/v1/orders', {
    method: 'POST',
    token: customer.token,
    headers: { 'idempotency-key': `live-${Date.now()}` },
    body: { items: [{ productId: 'wool-socks', quantity: 1 }], shippingAddress: address }
  })
  t.equal(placed.status, 201)
  const url = `${stack.gateway.replace(/^http/, 'ws')}/graphql`
  const owner = graphqlWs(url, { authorization: `Bearer ${customer.token}` })
  const everything = graphqlWs(url, { authorization: `Bearer ${admin}` })
  t.teardown(() => {
    owner.close()
    everything.close()
  })
  await Promise.all([owner.acknowledged, everything.acknowledged])
  owner.subscribe('this', 'subscription ($id: ID) { orderUpdated(id: $id) { id status updatedAt } }', { id: placed.body.id })
  everything.subscribe('all', 'subscription { orderUpdated { id userId status } }')
  // Neither answers a subscribe; give both a moment to be registered.
  await new Promise((resolve) => setTimeout(resolve, 300))
  const status = (message: WsMessage) =>
    (message.payload as { data?: { orderUpdated?: { id: string; status: string } } } | undefined)?.data?.orderUpdated
  const seen = (wanted: string) => (message: WsMessage) => status(message)?.id === placed.body.id && status(message)?.status === wanted

  const asked = Date.now()
  const paid = await api(`/api/v1/orders/${placed.body.id}/status`, { method: 'PATCH', token: admin, body: { status: 'PAID' } })
  t.equal(paid.status, 200)
  await owner.next(seen('PAID'), 1000)
  t.ok(Date.now() - asked <= 1000, `PAID reached the owner ${Date.now() - asked} ms after the change was asked for`)
  t.match(status(await everything.next(seen('PAID'), 1000)), { id: placed.body.id })

  const shipped = await graphql(
    'mutation ($id: ID!) { updateOrderStatus(id: $id, status: SHIPPED) { status } }',
    { id: placed.body.id },
    admin
  )
  t.same(shipped.data, { updateOrderStatus: { status: 'SHIPPED' } })
  await owner.next(seen('SHIPPED'), 1000)
  await everything.next(seen('SHIPPED'), 1000)
})

t.test('every service drains and exits cleanly on SIGTERM', async (t) => {
  const processes = Object.entries(stack.processes)
  for (const [, process] of processes) process.child.kill('SIGTERM')
  for (const [name, process] of processes) {
    // Exit code 0 only comes from the end of the graceful path (a signal death or a closer failing exits otherwise).
    t.equal(await process.exited, 0, `${name} drained and exited 0`)
  }
})
