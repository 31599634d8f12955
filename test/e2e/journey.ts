// The end-to-end journey a user makes through the gateway (gRPC is also called directly once):
// every protocol and the event path to real SMTP. The same tests run against the services as
// host processes (journeys.test.ts), as containers of the built images and under compose
// (test/containers).
import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'
import { eventually, graphqlWs, type Mail, type WsMessage } from '@polyshop/testkit'
import type tap from 'tap'

export const address = { name: 'Ada Lovelace', line1: '12 Analytical Row', city: 'London', postalCode: 'N1 9GU', country: 'GB' }

interface Product {
  id: string
  name: string
  category: string
  price: { amount: number; currency: string }
  stock: number
}
interface Order {
  id: string
  userId: string
  status: string
  items: Array<{ productId: string; quantity: number; unitPrice: { amount: number } }>
  total: { amount: number; currency: string }
}

/** Where the system under test is. */
export interface JourneyTarget {
  /** The gateway's base URL, e.g. http://127.0.0.1:8080. */
  gateway: string
  /** The order service's gRPC address, e.g. http://127.0.0.1:50051. */
  orderGrpc: string
  /** The mail the SMTP server received so far. */
  mails: () => Promise<Mail[]>
}

/** REST and GraphQL calls through one gateway, and a fresh signed-in customer. */
export function journeyClient(gateway: string) {
  const api = async <T = Record<string, unknown>>(
    path: string,
    options: { method?: string; token?: string; body?: unknown; headers?: Record<string, string> } = {}
  ): Promise<{ status: number; body: T; headers: Headers }> => {
    const response = await fetch(`${gateway}${path}`, {
      method: options.method ?? 'GET',
      headers: {
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
        ...options.headers
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) })
    })
    const text = await response.text()
    return { status: response.status, body: (text === '' ? undefined : JSON.parse(text)) as T, headers: response.headers }
  }
  const graphql = async <T = Record<string, unknown>>(query: string, variables: Record<string, unknown> = {}, token?: string) =>
    (
      await api<{ data: T; errors?: Array<{ message: string; extensions: { code: string } }> }>('/graphql', {
        method: 'POST',
        body: { query, variables },
        ...(token === undefined ? {} : { token })
      })
    ).body

  async function register(name: string): Promise<{ email: string; token: string; userId: string }> {
    const email = `${name.toLowerCase()}-${randomUUID().slice(0, 8)}@example.com`
    const registered = await api<{ user: { id: string } }>('/api/v1/auth/register', {
      method: 'POST',
      body: { email, password: 'a long enough password', name }
    })
    if (registered.status !== 201) throw new Error(`register answered ${registered.status}: ${JSON.stringify(registered.body)}`)
    const login = await api<{ accessToken: string }>('/api/v1/auth/login', {
      method: 'POST',
      body: { email, password: 'a long enough password' }
    })
    return { email, token: login.body.accessToken, userId: registered.body.user.id }
  }
  return { api, graphql, register }
}

/** Registers the journey's tests on `t`; they run in order against `target`. */
export function journeyTests(t: Pick<typeof tap, 'test'>, target: JourneyTarget): void {
  const { api, graphql, register } = journeyClient(target.gateway)
  t.test('REST: register, sign in, search, order idempotently, list, cancel; stock comes back; others see nothing', async (t) => {
    const ada = await register('Ada')
    const search = await api<{ items: Product[] }>('/api/v1/products?q=tea&limit=5')
    t.equal(search.status, 200)
    t.ok(search.body.items.length >= 2, 'the seeded catalog has teas')
    const [first, second] = search.body.items as [Product, Product]
    const stockBefore = (await api<Product>(`/api/v1/products/${first.id}`)).body.stock

    const body = {
      items: [
        { productId: first.id, quantity: 2 },
        { productId: second.id, quantity: 1 }
      ],
      shippingAddress: address
    }
    const key = randomUUID()
    const placed = await api<Order>('/api/v1/orders', { method: 'POST', token: ada.token, body, headers: { 'idempotency-key': key } })
    t.equal(placed.status, 201, `placed: ${JSON.stringify(placed.body)}`)
    t.equal(placed.body.status, 'CONFIRMED')
    t.equal(placed.body.total.amount, first.price.amount * 2 + second.price.amount, 'priced by the catalog')
    t.equal((await api<Product>(`/api/v1/products/${first.id}`)).body.stock, stockBefore - 2, 'stock reserved')

    const retried = await api<Order>('/api/v1/orders', { method: 'POST', token: ada.token, body, headers: { 'idempotency-key': key } })
    t.equal(retried.body.id, placed.body.id, 'the same key and body: the same order')
    const reused = await api<{ code: string }>('/api/v1/orders', {
      method: 'POST',
      token: ada.token,
      body: { ...body, items: [{ productId: first.id, quantity: 1 }] },
      headers: { 'idempotency-key': key }
    })
    t.ok(reused.status === 409 || reused.status === 422, `the same key with another body is refused (${reused.status})`)
    t.equal((await api<Product>(`/api/v1/products/${first.id}`)).body.stock, stockBefore - 2, 'and reserved nothing more')

    const listed = await api<{ items: Order[] }>('/api/v1/orders', { token: ada.token })
    t.same(
      listed.body.items.map((o) => o.id),
      [placed.body.id]
    )

    const bob = await register('Bob')
    const peek = await api<{ code: string }>(`/api/v1/orders/${placed.body.id}`, { token: bob.token })
    t.ok(peek.status === 404 || peek.status === 403, `another user cannot see it (${peek.status})`)
    const bobCancels = await api(`/api/v1/orders/${placed.body.id}/cancel`, { method: 'POST', token: bob.token })
    t.ok(bobCancels.status === 404 || bobCancels.status === 403, 'nor cancel it')

    const cancelled = await api<Order>(`/api/v1/orders/${placed.body.id}/cancel`, {
      method: 'POST',
      token: ada.token,
      body: { reason: 'changed my mind' }
    })
    t.equal(cancelled.status, 200)
    t.equal(cancelled.body.status, 'CANCELLED')
    t.equal((await api<Product>(`/api/v1/products/${first.id}`)).body.stock, stockBefore, 'stock restored')
    const again = await api<{ code: string }>(`/api/v1/orders/${placed.body.id}/cancel`, { method: 'POST', token: ada.token })
    t.equal(again.status, 409, 'a cancelled order cannot be cancelled again')
    t.equal(again.body.code, 'ORD_FAILED_PRECONDITION')
  })

  t.test('GraphQL: the same journey with mutations, and recommendations that learn from orders', async (t) => {
    const email = `grace-${randomUUID().slice(0, 8)}@example.com`
    const registered = await graphql<{ register: { user: { id: string; roles: string[] } } }>(
      'mutation($input: RegisterInput!) { register(input: $input) { user { id roles } accessToken } }',
      { input: { email, password: 'a long enough password', name: 'Grace' } }
    )
    t.same(registered.data.register.user.roles, ['customer'])
    const login = await graphql<{ login: { accessToken: string; expiresIn: number } }>(
      'mutation($email: String!, $password: String!) { login(email: $email, password: $password) { accessToken expiresIn } }',
      { email, password: 'a long enough password' }
    )
    const token = login.data.login.accessToken
    t.ok(login.data.login.expiresIn > 0)

    const found = await graphql<{ products: { items: Product[] } }>(
      '{ products(filter: { category: "coffee", sort: PRICE_ASC }, first: 3) { items { id name category price { amount currency } stock } nextCursor } }'
    )
    const coffees = found.data.products.items
    t.equal(coffees.length, 3)
    t.ok(coffees.every((p) => p.category === 'coffee'))
    t.ok((coffees[0]?.price.amount ?? 0) <= (coffees[1]?.price.amount ?? 0), 'sorted by price')
    const [x, y, z] = coffees as [Product, Product, Product]

    const place = (input: object, key: string, as: string) =>
      graphql<{ placeOrder: Order }>(
        'mutation($input: PlaceOrderInput!, $key: String!) { placeOrder(input: $input, idempotencyKey: $key) { id status total { amount } items { productId quantity } } }',
        { input, key },
        as
      )
    const mine = await place({ items: [{ productId: x.id, quantity: 1 }], shippingAddress: address }, randomUUID(), token)
    t.same(mine.errors, undefined, 'placed without errors')
    t.equal(mine.data.placeOrder.status, 'CONFIRMED')
    const orders = await graphql<{ orders: { items: Array<{ id: string; items: Array<{ product: { id: string } }> }> } }>(
      '{ orders(first: 5) { items { id items { product { id } } } } }',
      {},
      token
    )
    t.same(
      orders.data.orders.items.map((o) => o.id),
      [mine.data.placeOrder.id]
    )
    t.equal(orders.data.orders.items[0]?.items[0]?.product.id, x.id)

    // Someone else buys x together with y and z: Grace, who bought x, should now be shown y and z as bought together.
    const other = await register('Henry')
    const together = await place(
      {
        items: [
          { productId: x.id, quantity: 1 },
          { productId: y.id, quantity: 1 },
          { productId: z.id, quantity: 1 }
        ],
        shippingAddress: address
      },
      randomUUID(),
      other.token
    )
    t.equal(together.data.placeOrder.status, 'CONFIRMED')
    const recommendations = await eventually(
      async () => {
        const answer = await graphql<{ recommendations: Array<{ reason: string; score: number; product: { id: string } }> }>(
          '{ recommendations(limit: 20) { reason score product { id name } } }',
          {},
          token
        )
        const boughtTogether = answer.data.recommendations.filter((r) => r.reason === 'BOUGHT_TOGETHER').map((r) => r.product.id)
        return boughtTogether.includes(y.id) && boughtTogether.includes(z.id) ? answer.data.recommendations : undefined
      },
      60_000,
      'bought-together recommendations'
    )
    t.notOk(
      recommendations.some((r) => r.product.id === x.id),
      'never what she already bought'
    )
    const guest = await graphql<{ recommendations: Array<{ reason: string }> }>('{ recommendations(limit: 3) { reason } }')
    t.equal(guest.data.recommendations.length, 3, 'a guest gets popular items')

    const cancelled = await graphql<{ cancelOrder: { status: string } }>(
      'mutation($id: ID!) { cancelOrder(id: $id) { status } }',
      { id: mine.data.placeOrder.id },
      token
    )
    t.equal(cancelled.data.cancelOrder.status, 'CANCELLED')
    const notFound = await graphql('{ order(id: "no-such-order") { id } }', {}, token)
    t.equal(notFound.errors?.[0]?.extensions.code, 'ORD_NOT_FOUND')
  })

  t.test('the same product reads identically through REST and GraphQL', async (t) => {
    const rest = await api<Record<string, unknown> & { attributes: Record<string, string> }>('/api/v1/products/beanie')
    const viaGraphql = await graphql<{ product: Record<string, unknown> & { attributes: Array<{ name: string; value: string }> } }>(
      '{ product(id: "beanie") { id name description category price { amount currency } stock images attributes { name value } createdAt updatedAt } }'
    )
    const { attributes, ...product } = viaGraphql.data.product
    const { attributes: restAttributes, ...restProduct } = rest.body
    t.same(product, restProduct)
    t.same(Object.fromEntries(attributes.map((a) => [a.name, a.value])), restAttributes)
  })

  t.test('gRPC: the order service answers a @grpc/grpc-js client with a token and refuses one without', async (t) => {
    const definition = protoLoader.loadSync(['shop/order/v1/order.proto'], {
      includeDirs: [fileURLToPath(new URL('../../proto', import.meta.url))],
      longs: String,
      enums: String,
      defaults: true
    })
    const loaded = grpc.loadPackageDefinition(definition) as unknown as {
      shop: { order: { v1: { OrderService: grpc.ServiceClientConstructor } } }
    }
    const client = new loaded.shop.order.v1.OrderService(target.orderGrpc.replace('http://', ''), grpc.credentials.createInsecure())
    t.teardown(() => client.close())
    const listOrders = (token?: string) =>
      new Promise<{ orders: unknown[] }>((resolve, reject) => {
        const metadata = new grpc.Metadata()
        if (token !== undefined) metadata.set('authorization', `Bearer ${token}`)
        ;(client as unknown as Record<string, (...args: unknown[]) => void>).ListOrders?.(
          { pageSize: 5 },
          metadata,
          { deadline: new Date(Date.now() + 10_000) },
          (error: grpc.ServiceError | null, value: { orders: unknown[] }) => (error === null ? resolve(value) : reject(error))
        )
      })
    const user = await register('Ivy')
    t.same((await listOrders(user.token)).orders, [])
    const refused = await listOrders().catch((error: grpc.ServiceError) => error)
    t.equal((refused as grpc.ServiceError).code, grpc.status.UNAUTHENTICATED)
  })

  t.test("live: a REST cancel reaches the owner's WebSocket subscription within 1 s, and no one else's", async (t) => {
    const ann = await register('Ann')
    const bob = await register('Bob')
    const url = `${target.gateway.replace(/^http/, 'ws')}/graphql`
    const subscription = 'subscription { orderUpdated { id userId status updatedAt } }'
    const anns = graphqlWs(url, { authorization: `Bearer ${ann.token}` })
    const bobs = graphqlWs(url, { authorization: `Bearer ${bob.token}` })
    t.teardown(() => {
      anns.close()
      bobs.close()
    })
    await Promise.all([anns.acknowledged, bobs.acknowledged])
    anns.subscribe('mine', subscription)
    bobs.subscribe('mine', subscription)
    const update = (message: WsMessage) =>
      (message.payload as { data?: { orderUpdated?: { id: string; status: string; userId: string } } } | undefined)?.data?.orderUpdated
    const seen = (id: string, status: string) => (message: WsMessage) =>
      message.type === 'next' && update(message)?.id === id && update(message)?.status === status
    const placed = await api<Order>('/api/v1/orders', {
      method: 'POST',
      token: ann.token,
      body: { items: [{ productId: 'beanie', quantity: 1 }], shippingAddress: address },
      headers: { 'idempotency-key': randomUUID() }
    })
    t.equal(placed.status, 201)
    // The first event may wait for the gateway's consumer to join its group after a fresh start.
    t.match(update(await anns.next(seen(placed.body.id, 'CONFIRMED'), 30_000)), { userId: ann.userId })
    const asked = Date.now()
    const cancelled = await api<Order>(`/api/v1/orders/${placed.body.id}/cancel`, { method: 'POST', token: ann.token, body: {} })
    t.equal(cancelled.status, 200)
    await anns.next(seen(placed.body.id, 'CANCELLED'), 5000)
    const delay = Date.now() - asked
    t.ok(delay <= 1000, `the change reached the subscriber ${delay} ms after the cancel was asked for`)
    await new Promise((resolve) => setTimeout(resolve, 300))
    t.same(
      bobs.messages.filter((message) => message.type !== 'ping'),
      [{ type: 'connection_ack' }],
      "Bob's subscription saw nothing of Ann's order"
    )
  })

  t.test('Kafka: the welcome and the order confirmation arrive at the SMTP server exactly once', async (t) => {
    const jane = await register('Jane')
    const placed = await api<Order>('/api/v1/orders', {
      method: 'POST',
      token: jane.token,
      body: { items: [{ productId: 'beanie', quantity: 1 }], shippingAddress: address },
      headers: { 'idempotency-key': randomUUID() }
    })
    t.equal(placed.status, 201)
    const to = async (kind: RegExp) => (await target.mails()).filter((mail) => mail.to.includes(jane.email) && kind.test(mail.raw))
    await eventually(
      async () => ((await to(/Welcome to polyshop/)).length > 0 && (await to(/is confirmed/)).length > 0 ? true : undefined),
      60_000,
      'both mails'
    )
    // Give a duplicate every chance to show up.
    await new Promise((resolve) => setTimeout(resolve, 3000))
    t.equal((await to(/Welcome to polyshop/)).length, 1, 'one welcome')
    t.equal((await to(/is confirmed/)).length, 1, 'one confirmation')
    t.match((await to(/is confirmed/))[0]?.raw, /25[.,]00/, 'with the total')
  })
}
