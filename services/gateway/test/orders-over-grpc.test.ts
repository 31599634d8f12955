import { Code, ConnectError } from '@connectrpc/connect'
import { OrderStatus } from '@polyshop/proto'
import t from 'tap'
import { build, sampleOrder } from './helper.js'

const address = { name: 'Ann', line1: 'Main 1', city: 'Berlin', postalCode: '10115', country: 'DE' }

t.test('REST orders become OrderService calls: JSON in and out, token, request id and deadline forwarded', async (t) => {
  const gateway = await build(t, {
    orders: {
      createOrder: () => ({ order: sampleOrder() }),
      listOrders: () => ({ orders: [sampleOrder(), sampleOrder({ id: 'o-2', status: OrderStatus.CANCELLED })], nextPageToken: 'next' })
    }
  })
  const token = gateway.tokens.token(['customer'], 'u-1')
  const placed = await gateway.app.inject({
    method: 'POST',
    url: '/api/v1/orders',
    headers: { authorization: `Bearer ${token}`, 'idempotency-key': 'order-1', 'x-request-id': 'req-42' },
    payload: { items: [{ productId: 'tea', quantity: 2 }], shippingAddress: address }
  })
  t.equal(placed.statusCode, 201)
  t.same(placed.json(), {
    id: 'o-1',
    userId: 'u-1',
    status: 'CONFIRMED',
    items: [{ productId: 'tea', name: 'Tea', quantity: 2, unitPrice: { amount: 1999, currency: 'EUR' } }],
    total: { amount: 3998, currency: 'EUR' },
    shippingAddress: address,
    createdAt: '2026-11-29T10:00:00.000Z',
    updatedAt: '2026-11-29T10:00:01.000Z'
  })
  const [call] = gateway.orderCalls
  t.equal(call?.method, 'createOrder')
  t.equal(call?.headers.get('authorization'), `Bearer ${token}`)
  t.equal(call?.headers.get('x-request-id'), 'req-42')
  t.ok(
    Number(call?.headers.get('grpc-timeout')?.replace(/\D/g, '')) > 0 || call?.headers.has('connect-timeout-ms'),
    'the call has a deadline'
  )
  t.match(call?.request, { idempotencyKey: 'order-1', items: [{ productId: 'tea', quantity: 2 }] })

  const listed = await gateway.app.inject({ url: '/api/v1/orders?limit=2', headers: { authorization: `Bearer ${token}` } })
  t.same(
    listed.json().items.map((o: { id: string; status: string }) => [o.id, o.status]),
    [
      ['o-1', 'CONFIRMED'],
      ['o-2', 'CANCELLED']
    ]
  )
  t.equal(listed.json().nextCursor, 'next')

  const noKey = await gateway.app.inject({
    method: 'POST',
    url: '/api/v1/orders',
    headers: { authorization: `Bearer ${token}` },
    payload: { items: [{ productId: 'tea', quantity: 1 }], shippingAddress: address }
  })
  t.equal(noKey.statusCode, 400, 'an Idempotency-Key is required')
  const anonymous = await gateway.app.inject({ url: '/api/v1/orders' })
  t.equal(anonymous.statusCode, 401)
  t.equal(gateway.orderCalls.length, 2, 'refused requests never reached the order service')
})

t.test('every gRPC status becomes the HTTP problem of the one table', async (t) => {
  const cases: Array<[Code, number, string]> = [
    [Code.NotFound, 404, 'ORD_NOT_FOUND'],
    [Code.InvalidArgument, 400, 'ORD_INVALID_ARGUMENT'],
    [Code.FailedPrecondition, 409, 'ORD_FAILED_PRECONDITION'],
    [Code.AlreadyExists, 409, 'ORD_ALREADY_EXISTS'],
    [Code.PermissionDenied, 403, 'ORD_PERMISSION_DENIED'],
    [Code.Unauthenticated, 401, 'ORD_UNAUTHENTICATED'],
    [Code.Unavailable, 503, 'GW_UPSTREAM_UNAVAILABLE'],
    // The order service's stream reset under the gateway (its process killed mid-call): retry, not 499.
    [Code.Canceled, 503, 'GW_UPSTREAM_UNAVAILABLE'],
    [Code.DeadlineExceeded, 504, 'GW_UPSTREAM_TIMEOUT'],
    [Code.Internal, 502, 'ORD_INTERNAL']
  ]
  let next = cases[0]
  const gateway = await build(t, {
    orders: {
      getOrder: () => {
        throw new ConnectError(`secret internals at db.orders for ${Code[next?.[0] ?? 0]}`, next?.[0])
      }
    }
  })
  const token = gateway.tokens.token(['customer'], 'u-1')
  for (const entry of cases) {
    next = entry
    const response = await gateway.app.inject({ url: '/api/v1/orders/o-9', headers: { authorization: `Bearer ${token}` } })
    t.equal(response.statusCode, entry[1], Code[entry[0]])
    t.equal(response.json().code, entry[2])
    if (entry[1] >= 500) t.notMatch(response.json().detail, /secret|db\.orders/, 'server-side failures say nothing of internals')
  }
})

t.test('GraphQL answers from the same clients: errors carry codes, order items load their products in one batch', async (t) => {
  const productCalls: string[] = []
  const gateway = await build(t, {
    orders: {
      getOrder: (request) => {
        if ((request as { orderId: string }).orderId !== 'o-1') throw new ConnectError('order not found', Code.NotFound)
        const order = sampleOrder()
        order.items.push({ ...order.items[0], productId: 'pot', name: 'Pot' } as never)
        return { order }
      }
    },
    product: (app) => {
      app.get('/api/v1/products', async (request) => {
        productCalls.push(request.url)
        const ids = ((request.query as { ids?: string }).ids ?? '').split(',')
        return {
          items: ids.map((id) => ({
            id,
            name: id.toUpperCase(),
            description: '',
            category: 'tea',
            price: { amount: 500, currency: 'EUR' },
            stock: 1,
            images: [],
            attributes: {},
            createdAt: '2026-01-01T00:00:00.000Z',
            updatedAt: '2026-01-01T00:00:00.000Z'
          })),
          nextCursor: null
        }
      })
    }
  })
  const token = gateway.tokens.token(['customer'], 'u-1')
  const ask = async (query: string, authorization?: string) =>
    (
      await gateway.app.inject({
        method: 'POST',
        url: '/graphql',
        headers: authorization === undefined ? {} : { authorization },
        payload: { query }
      })
    ).json()
  const found = await ask('{ order(id: "o-1") { status total { amount } items { name product { name } } } }', `Bearer ${token}`)
  t.same(found.data.order, {
    status: 'CONFIRMED',
    total: { amount: 3998 },
    items: [
      { name: 'Tea', product: { name: 'TEA' } },
      { name: 'Pot', product: { name: 'POT' } }
    ]
  })
  t.equal(productCalls.length, 1, 'one catalog call for both items')
  t.match(productCalls[0], /ids=(tea%2Cpot|pot%2Ctea)/)

  const missing = await ask('{ order(id: "o-2") { id } }', `Bearer ${token}`)
  t.same(missing.errors[0].extensions, { code: 'ORD_NOT_FOUND', status: 404, classification: 'NOT_FOUND', grpcStatus: 'NOT_FOUND' })
  const anonymous = await ask('{ orders { items { id } } }')
  t.equal(anonymous.errors[0].extensions.code, 'GW_UNAUTHENTICATED')
  const badToken = await ask('{ recommendations { score } }', 'Bearer nonsense')
  t.equal(badToken.errors[0].extensions.code, 'GW_UNAUTHENTICATED', 'a refused token is an error, not a silent guest')
})

t.test('GraphQL: one request cannot fan out into many service calls (aliased searches, orders and their products)', async (t) => {
  const productCalls: string[] = []
  const gateway = await build(t, {
    env: { RATE_LIMIT_PER_MINUTE: '100000' },
    orders: { getOrder: () => ({ order: sampleOrder() }) },
    product: (app) => {
      app.get('/api/v1/products', async (request) => {
        productCalls.push(request.url)
        return { items: [], nextCursor: null }
      })
    }
  })
  const token = gateway.tokens.token(['customer'], 'u-1')
  const ask = async (query: string) =>
    (
      await gateway.app.inject({ method: 'POST', url: '/graphql', headers: { authorization: `Bearer ${token}` }, payload: { query } })
    ).json() as { data?: unknown; errors?: Array<{ extensions: { code: string } }> }
  const searches = (n: number) => Array.from({ length: n }, (_, i) => `s${i}: products(filter: { q: "tea ${i}" }) { nextCursor }`).join(' ')

  const accepted = await ask(`{ ${searches(10)} }`)
  t.notOk(accepted.errors, 'ten searches in one request are accepted')
  t.equal(productCalls.length, 10, 'and make ten calls')

  for (const n of [11, 90]) {
    const before = productCalls.length
    const refused = await ask(`{ ${searches(n)} }`)
    t.ok(
      refused.errors?.some((error) => error.extensions.code === 'GRAPHQL_TOO_MANY_CALLS'),
      `${n} aliased searches are refused: ${refused.errors?.map((error) => error.extensions.code).join(', ')}`
    )
    t.equal(productCalls.length, before, 'before any call is made')
  }

  // The worst accepted shape with nested lookups: five orders, each with its products. The loader
  // batches what resolves together, and five orders resolve apart: five order calls, five lookups.
  const before = { products: productCalls.length, orders: gateway.orderCalls.length }
  const orders = Array.from({ length: 5 }, (_, i) => `o${i}: order(id: "o-1") { items { product { id } } }`).join(' ')
  t.notOk((await ask(`{ ${orders} }`)).errors, 'five orders with their products are accepted')
  const calls = productCalls.length - before.products + gateway.orderCalls.length - before.orders
  t.ok(calls <= 10, `the worst accepted request made ${calls} calls to the services (at most 10)`)
  t.equal(
    (await ask(`{ ${orders} extra: order(id: "o-1") { id } }`)).errors?.[0]?.extensions.code,
    'GRAPHQL_TOO_MANY_CALLS',
    'five orders, their five lookups and one more order are eleven'
  )
})
