import { randomUUID } from 'node:crypto'
import { Code, ConnectError } from '@connectrpc/connect'
import { fromKafkaMessage } from '@polyshop/events'
import { OutboxRelay, OutboxWriter } from '@polyshop/outbox'
import { OrderStatus } from '@polyshop/proto'
import { consumeTopic, eventually, grpcCode, testKafka, testLogger } from '@polyshop/testkit'
import { MongoNetworkError } from 'mongodb'
import t from 'tap'
import type { OrderDocument } from '../src/domain/order-document.js'
import { Orders } from '../src/domain/orders.js'
import { address, build } from './helper.js'

t.test('an order takes names and prices from the catalog, reserves stock, and yields one order.created event', async (t) => {
  const stack = await build(t)
  const kafka = testKafka()
  const relay = new OutboxRelay({ db: stack.db, collection: 'orders', kafka, logger: testLogger().logger, pollIntervalMs: 100 })
  relay.start()
  t.teardown(() => relay.stop())
  const messages = await consumeTopic(t, kafka, 'order.events')
  const userId = randomUUID()
  const client = stack.clientFor(stack.tokens.token(['customer'], userId))

  const { order } = await client.createOrder({
    items: [
      { productId: 'beanie', quantity: 2 },
      { productId: 'notebook-a5', quantity: 1 }
    ],
    shippingAddress: address,
    idempotencyKey: 'k-1'
  })
  t.equal(order?.status, OrderStatus.CONFIRMED)
  t.equal(order?.userId, userId)
  t.same(
    order?.items.map((i) => [i.productId, i.name, i.quantity, i.unitPrice?.amount]),
    [
      ['beanie', 'Ribbed Beanie', 2, 2500n],
      ['notebook-a5', 'Dotted Notebook A5', 1, 1450n]
    ]
  )
  t.equal(order?.total?.amount, 6450n)
  t.equal(order?.total?.currency, 'EUR')
  t.equal((await stack.product.products.findById('beanie'))?.stock, 83, 'stock reserved')
  t.equal((await client.getOrder({ orderId: order?.id ?? '' })).order?.id, order?.id)

  const mine = () => messages.filter((m) => String(m.key) === order?.id)
  await eventually(async () => (mine().length > 0 ? true : undefined), 30_000, 'the order.created event')
  await new Promise((resolve) => setTimeout(resolve, 1000))
  t.equal(mine().length, 1, 'exactly one event')
  const event = fromKafkaMessage(mine()[0] as never)
  t.equal(event.type, 'shop.order.created.v1')
  t.match(event.data, { orderId: order?.id, userId, total: { amount: 6450n, currency: 'EUR' } })
})

t.test('100 concurrent CreateOrder calls with one idempotency key make one order', async (t) => {
  const stack = await build(t)
  const client = stack.clientFor(stack.tokens.token(['customer']))
  const request = { items: [{ productId: 'enamel-mug', quantity: 1 }], shippingAddress: address, idempotencyKey: 'same-key' }
  const replies = await Promise.all(Array.from({ length: 100 }, () => client.createOrder(request)))
  t.equal(new Set(replies.map((r) => r.order?.id)).size, 1, 'every reply is the same order')
  t.equal(await stack.db.collection('orders').countDocuments(), 1)
  t.equal((await stack.product.products.findById('enamel-mug'))?.stock, 119, 'stock taken once')
  t.equal(
    await grpcCode(client.createOrder({ ...request, items: [{ productId: 'enamel-mug', quantity: 2 }] })),
    Code.AlreadyExists,
    'same key, other order'
  )
})

t.test('200 concurrent orders from 200 customers against stock 50: exactly 50 confirmed, stock 0', async (t) => {
  const stack = await build(t)
  await stack.product.products.products.updateOne({ _id: 'headlamp' }, { $set: { stock: 50 } })
  const outcomes = await Promise.all(
    Array.from({ length: 200 }, (_, i) =>
      stack
        .clientFor(stack.tokens.token(['customer']))
        .createOrder({ items: [{ productId: 'headlamp', quantity: 1 }], shippingAddress: address, idempotencyKey: `k-${i}` })
        .then(
          () => 'ok' as const,
          (error: unknown) => ConnectError.from(error).code
        )
    )
  )
  t.equal(outcomes.filter((o) => o === 'ok').length, 50)
  t.equal(outcomes.filter((o) => o === Code.FailedPrecondition).length, 150)
  t.equal((await stack.product.products.findById('headlamp'))?.stock, 0)
  t.equal(await stack.db.collection('orders').countDocuments({ status: 'CONFIRMED' }), 50)
})

t.test("another user's order is invisible; only admins list everyone's", async (t) => {
  const stack = await build(t)
  const alice = stack.clientFor(stack.tokens.token(['customer']))
  const bob = stack.clientFor(stack.tokens.token(['customer']))
  const admin = stack.clientFor(stack.tokens.token(['admin', 'customer']))
  const { order } = await alice.createOrder({
    items: [{ productId: 'beanie', quantity: 1 }],
    shippingAddress: address,
    idempotencyKey: 'a'
  })
  await bob.createOrder({ items: [{ productId: 'beanie', quantity: 1 }], shippingAddress: address, idempotencyKey: 'b' })
  t.equal(await grpcCode(bob.getOrder({ orderId: order?.id ?? '' })), Code.NotFound)
  t.equal(await grpcCode(bob.cancelOrder({ orderId: order?.id ?? '' })), Code.NotFound)
  t.equal((await bob.listOrders({})).orders.length, 1, 'bob sees his own only')
  t.equal(await grpcCode(bob.listOrders({ allUsers: true })), Code.PermissionDenied)
  t.equal((await admin.listOrders({ allUsers: true })).orders.length, 2)
  t.equal((await admin.getOrder({ orderId: order?.id ?? '' })).order?.id, order?.id)
})

t.test('status moves only forward, by an admin; cancelling gives stock back and is refused after shipping', async (t) => {
  const stack = await build(t)
  const customer = stack.clientFor(stack.tokens.token(['customer']))
  const admin = stack.clientFor(stack.tokens.token(['admin']))
  const { order } = await customer.createOrder({
    items: [{ productId: 'fountain-pen', quantity: 2 }],
    shippingAddress: address,
    idempotencyKey: 'x'
  })
  const id = order?.id ?? ''
  t.equal(await grpcCode(customer.updateOrderStatus({ orderId: id, status: OrderStatus.PAID })), Code.PermissionDenied)
  t.equal(
    await grpcCode(admin.updateOrderStatus({ orderId: id, status: OrderStatus.SHIPPED })),
    Code.FailedPrecondition,
    'CONFIRMED → SHIPPED skips PAID'
  )
  t.equal((await customer.getOrder({ orderId: id })).order?.status, OrderStatus.CONFIRMED, 'unchanged')
  t.equal((await admin.updateOrderStatus({ orderId: id, status: OrderStatus.PAID })).order?.status, OrderStatus.PAID)
  t.equal((await admin.updateOrderStatus({ orderId: id, status: OrderStatus.SHIPPED })).order?.status, OrderStatus.SHIPPED)
  t.equal(await grpcCode(customer.cancelOrder({ orderId: id })), Code.FailedPrecondition, 'too late to cancel')
  t.equal(await grpcCode(admin.updateOrderStatus({ orderId: id, status: OrderStatus.PAID })), Code.FailedPrecondition, 'no going back')

  const second = (
    await customer.createOrder({ items: [{ productId: 'fountain-pen', quantity: 3 }], shippingAddress: address, idempotencyKey: 'y' })
  ).order
  t.equal((await stack.product.products.findById('fountain-pen'))?.stock, 37)
  t.equal((await customer.cancelOrder({ orderId: second?.id ?? '', reason: 'changed my mind' })).order?.status, OrderStatus.CANCELLED)
  t.equal((await stack.product.products.findById('fountain-pen'))?.stock, 40, 'stock back')
  t.equal(await grpcCode(customer.cancelOrder({ orderId: second?.id ?? '' })), Code.FailedPrecondition, 'cancelled once')
})

t.test('no token, bad input: refused, and nothing stored or reserved', async (t) => {
  const stack = await build(t)
  const { createClient } = await import('@connectrpc/connect')
  const { createGrpcTransport } = await import('@connectrpc/connect-node')
  const { OrderService } = await import('@polyshop/proto')
  const anonymous = createClient(OrderService, createGrpcTransport({ baseUrl: stack.orderUrl }))
  t.equal(await grpcCode(anonymous.listOrders({})), Code.Unauthenticated)
  const client = stack.clientFor(stack.tokens.token(['customer']))
  const good = { items: [{ productId: 'beanie', quantity: 1 }], shippingAddress: address, idempotencyKey: 'k' }
  const bad = [
    { ...good, items: [] },
    { ...good, items: [{ productId: 'beanie', quantity: 0 }] },
    { ...good, items: [{ productId: 'beanie', quantity: 100 }] },
    { ...good, items: Array.from({ length: 51 }, (_, i) => ({ productId: `p${i}`, quantity: 1 })) },
    { ...good, items: [{ productId: '{"$gt":""}', quantity: 1 }] },
    { ...good, idempotencyKey: '' },
    { ...good, shippingAddress: { ...address, country: 'Germany' } },
    { ...good, shippingAddress: { ...address, name: '' } },
    { ...good, shippingAddress: undefined }
  ]
  for (const request of bad)
    t.equal(await grpcCode(client.createOrder(request as never)), Code.InvalidArgument, JSON.stringify(request).slice(0, 90))
  t.equal(await grpcCode(client.createOrder({ ...good, items: [{ productId: 'no-such-thing', quantity: 1 }] })), Code.NotFound)
  t.equal(await stack.db.collection('orders').countDocuments(), 0)
  t.equal((await stack.product.products.findById('beanie'))?.stock, 85)
  t.equal((await client.createOrder(good)).order?.status, OrderStatus.CONFIRMED, 'the key is still usable after refusals')
})

t.test('stock cannot be hoarded: unpaid orders expire and give their stock back; a user holds few unpaid orders', async (t) => {
  const stack = await build(t)
  const stock = async () => (await stack.product.products.findById('wool-socks'))?.stock
  const initial = await stock()
  const hoarder = stack.clientFor(stack.tokens.token(['customer']))
  const admin = stack.clientFor(stack.tokens.token(['admin']))
  const place = (client: typeof hoarder, key: string, quantity = 1) =>
    client.createOrder({ items: [{ productId: 'wool-socks', quantity }], shippingAddress: address, idempotencyKey: key })

  // At most 5 unpaid orders per user (the default), however they are sent.
  const burst = await Promise.all(Array.from({ length: 12 }, (_, i) => grpcCode(place(hoarder, `hoard-${i}`))))
  t.equal(burst.filter((code) => code === undefined).length, 5, '5 of 12 parallel orders from one user are placed')
  t.equal(burst.filter((code) => code === Code.FailedPrecondition).length, 7, 'the rest are refused (pay or cancel first)')
  t.equal(await stock(), (initial ?? 0) - 5, 'and hold nothing')

  // Paying one frees a place.
  const { orders } = await hoarder.listOrders({})
  const paid = orders[0]?.id ?? ''
  await admin.updateOrderStatus({ orderId: paid, status: OrderStatus.PAID })
  t.equal(await grpcCode(place(hoarder, 'after-paying')), undefined, 'after paying one, another can be placed')

  // Units are capped too (100 by default), whatever the number of orders.
  const bulk = stack.clientFor(stack.tokens.token(['customer']))
  t.equal(await grpcCode(place(bulk, 'bulk-1', 60)), undefined)
  t.equal(await grpcCode(place(bulk, 'bulk-2', 60)), Code.FailedPrecondition, '120 held units would pass the limit')

  // 31 minutes later (the default is 30): every unpaid order is cancelled and its stock comes back, once.
  const held = await stock()
  // The oldest unpaid order is one that cannot be cancelled (a document no version of the service
  // writes): it is logged and left, and does not keep the others' stock held.
  await stack.db
    .collection('orders')
    .insertOne({ _id: 'unreadable' as never, userId: 'u', status: 'PENDING', createdAt: new Date(0), items: 'broken' })
  const later = Date.now() + 31 * 60_000
  t.equal(await stack.order.orders.expireUnpaid(later, 1), 0, 'a batch of one: the unreadable order, which fails')
  t.equal(await stack.order.orders.expireUnpaid(later, 1), 1, 'the next batch of one is not taken by it again')
  const expired = 1 + (await stack.order.orders.expireUnpaid(later))
  t.equal(expired, 6, 'the five unpaid, and the bulk order, expired; the paid one did not')
  t.equal(await stock(), (held ?? 0) + 5 + 60, 'their units are back')
  t.equal(await stack.order.orders.expireUnpaid(Date.now() + 31 * 60_000), 0, 'expiring again does nothing')
  t.equal(await stock(), (held ?? 0) + 5 + 60, 'released once')
  const after = await hoarder.listOrders({})
  t.same(
    after.orders.map((o) => o.status).sort(),
    [
      OrderStatus.PAID,
      OrderStatus.CANCELLED,
      OrderStatus.CANCELLED,
      OrderStatus.CANCELLED,
      OrderStatus.CANCELLED,
      OrderStatus.CANCELLED
    ].sort()
  )
  t.equal(
    await stack.db.collection('orders').countDocuments({ status: 'CANCELLED', 'outbox.type': 'shop.order.cancelled.v1' }),
    6,
    'each with its cancellation event'
  )
  t.equal(await grpcCode(place(hoarder, 'after-expiry')), undefined, 'and the user may order again')
})

t.test('an order write whose acknowledgement is lost keeps its stock: recovery decides, not the failed call', async (t) => {
  const stack = await build(t)
  const logger = testLogger().logger
  const real = new OutboxWriter<OrderDocument>({ db: stack.db, collection: 'orders', logger })
  // The write reaches the database only after the caller has given up on it (a reply lost to a
  // network fault, the write applied late): what the order service must not take for "not stored".
  let landed: Promise<unknown> = Promise.resolve()
  const lossy = Object.create(real) as OutboxWriter<OrderDocument>
  lossy.insertOne = async (document, events) => {
    landed = new Promise((resolve) => setTimeout(resolve, 300)).then(() => real.insertOne(document, events))
    throw new MongoNetworkError('connection reset while waiting for the reply')
  }
  const orders = new Orders({
    db: stack.db,
    outbox: lossy,
    inventory: stack.inventory,
    downstreamTimeoutMs: 5000,
    logger,
    unpaidTtlMs: 1_800_000,
    maxUnpaidOrders: 5,
    maxHeldUnits: 100
  })
  await orders.ensureIndexes()
  const identity = {
    userId: randomUUID(),
    roles: ['customer'],
    tokenId: 'j',
    token: 't',
    expiresAt: new Date(Date.now() + 60_000),
    issuedAt: new Date()
  }
  const stock = async () => (await stack.product.products.findById('enamel-mug'))?.stock
  const before = await stock()
  const input = { items: [{ productId: 'enamel-mug', quantity: 2 }], shippingAddress: address, idempotencyKey: 'lost-ack' }

  t.equal(await grpcCode(orders.create(identity, input)), Code.Unavailable, 'the caller hears "retry"')
  await landed
  const stored = await stack.db.collection('orders').findOne({ idempotencyKey: 'lost-ack' })
  t.ok(stored, 'the order was stored after all')
  t.equal(await stock(), (before ?? 0) - 2, 'and its stock is still held for it')

  await orders.recover(0)
  t.equal(await stock(), (before ?? 0) - 2, 'recovery finds the order and keeps its stock')
  const retried = await orders.create(identity, input)
  t.equal(retried._id, stored?._id, 'a retry with the same key gets that order')
  t.equal(await stock(), (before ?? 0) - 2, 'reserved once')
})

t.test('the unpaid limits read one document per user; entries the orders disprove are dropped at the limit', async (t) => {
  const stack = await build(t)
  const userId = 'holder-1'
  const client = stack.clientFor(stack.tokens.token(['customer'], userId))
  const admin = stack.clientFor(stack.tokens.token(['admin']))
  const holds = stack.db.collection<{ _id: string; orders: Record<string, { units: number }> }>('unpaid_holds')
  const held = async () => Object.keys((await holds.findOne({ _id: userId }))?.orders ?? {}).sort()
  const place = (key: string) =>
    client.createOrder({ items: [{ productId: 'wool-socks', quantity: 1 }], shippingAddress: address, idempotencyKey: key })

  const first = (await place('h-1')).order?.id ?? ''
  const second = (await place('h-2')).order?.id ?? ''
  t.same(await held(), [first, second].sort(), 'each placed order is held')
  await admin.updateOrderStatus({ orderId: first, status: OrderStatus.PAID })
  await client.cancelOrder({ orderId: second, reason: 'changed my mind' })
  t.same(await held(), [], 'paying and cancelling let go of them')
  t.equal(await grpcCode(place('h-3')), undefined, 'a placed order again')
  const refused = await grpcCode(
    client.createOrder({ items: [{ productId: 'no-such-product', quantity: 1 }], shippingAddress: address, idempotencyKey: 'h-missing' })
  )
  t.equal(refused, Code.NotFound)
  t.equal((await held()).length, 1, 'an order that was never stored holds nothing')

  // Entries left behind (a removal that failed, two minutes ago) make the user look at the limit:
  // the exact check over the orders drops them and the order is placed.
  const stale = Object.fromEntries(
    Array.from({ length: 5 }, (_, i) => [
      `orders.lost-${i}`,
      { units: 1, until: new Date(Date.now() + 600_000), addedAt: new Date(Date.now() - 120_000) }
    ])
  )
  await holds.updateOne({ _id: userId }, { $set: stale })
  t.equal(await grpcCode(place('h-after-stale')), undefined, 'placed: the orders show 1 unpaid, not 6')
  t.equal((await held()).filter((id) => id.startsWith('lost-')).length, 0, 'the disproved entries are gone')
  t.equal((await held()).length, 2)
})
