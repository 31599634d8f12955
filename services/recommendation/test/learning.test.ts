import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { loadConfig } from '@polyshop/config'
import { createEvent, createKafka, type EventRecord, toKafkaMessage } from '@polyshop/events'
import { consumeTopic, eventually, testDatabase, testLogger, testTokens, testTopics, uniqueName } from '@polyshop/testkit'
import t from 'tap'
import { buildRecommendationService } from '../src/app.js'
import { RecommendationConfigSchema } from '../src/config.js'

const CATALOG: Record<string, { category: string; stock: number }> = {
  tea: { category: 'tea', stock: 10 },
  pot: { category: 'tea', stock: 10 },
  cup: { category: 'tea', stock: 10 },
  book: { category: 'books', stock: 10 },
  map: { category: 'books', stock: 0 }
}

/** The product service's batch lookup, counting calls. */
async function catalogServer(t: { teardown: (fn: () => unknown) => void }) {
  const calls: string[] = []
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '', 'http://x')
    calls.push(url.search)
    const ids = url.searchParams.get('ids')?.split(',') ?? Object.keys(CATALOG)
    const items = ids
      .filter((id) => CATALOG[id] !== undefined)
      .map((id) => ({
        id,
        name: `The ${id}`,
        description: '',
        category: CATALOG[id]?.category,
        price: { amount: 1000, currency: 'EUR' },
        stock: CATALOG[id]?.stock,
        images: [`/images/products/${id}.svg`],
        attributes: {},
        createdAt: '2026-01-01T00:00:00.000Z',
        updatedAt: '2026-01-01T00:00:00.000Z'
      }))
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ items, nextCursor: null }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    server.closeAllConnections()
    server.close()
  })
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls }
}

function orderCreated(orderId: string, userId: string, productIds: string[]): EventRecord {
  return createEvent(
    'shop.order.created.v1',
    {
      orderId,
      userId,
      items: productIds.map((productId) => ({ productId, name: productId, quantity: 1, unitPrice: { amount: 1000n, currency: 'EUR' } })),
      total: { amount: BigInt(1000 * productIds.length), currency: 'EUR' }
    },
    { source: '/polyshop/order', key: orderId }
  )
}

t.test('recommendations learn from order events: once per order, undone by a cancellation, private to their user', async (t) => {
  const { logger } = testLogger()
  const kafka = createKafka({ clientId: uniqueName('rec-test'), brokers: process.env.KAFKA_BROKERS ?? '', logger })
  const topics = await testTopics(t, kafka, ['orders', 'dlq'])
  const { db } = await testDatabase(t, 'recommendation')
  const catalog = await catalogServer(t)
  const tokens = testTokens()
  const config = loadConfig(RecommendationConfigSchema, {
    MONGODB_URL: process.env.MONGODB_URL,
    KAFKA_BROKERS: process.env.KAFKA_BROKERS,
    PRODUCT_SERVICE_URL: catalog.url,
    MAX_ATTEMPTS: '1'
  })
  const service = await buildRecommendationService({
    config,
    db,
    kafka,
    logger,
    resolveKey: tokens.resolveKey,
    topics: { orders: topics.orders ?? '', deadLetters: topics.dlq ?? '' },
    groupId: uniqueName('recommendation')
  })
  await service.consumer.start()
  t.teardown(async () => {
    await service.consumer.stop()
    await service.close()
    await service.http.close()
  })
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
  t.teardown(() => producer.disconnect())
  const publish = (...events: EventRecord[]) => producer.send({ topic: topics.orders ?? '', messages: events.map(toKafkaMessage) })

  const alice = uniqueName('alice')
  const bob = uniqueName('bob')
  const first = orderCreated(uniqueName('o'), alice, ['tea'])
  const second = orderCreated(uniqueName('o'), bob, ['tea', 'pot'])
  // The same event twice (a redelivery) and a second order by Bob.
  await publish(first, second, second, orderCreated(uniqueName('o'), bob, ['tea', 'cup', 'map']))
  await eventually(async () => (service.model.orderCount === 3 ? true : undefined), 30_000, 'three orders learnt')
  t.equal(await service.purchases.collection.countDocuments(), 3, 'one purchase record per order, the duplicate event changed nothing')

  const ask = async (query: string, token?: string) => {
    const response = await service.http.inject({
      method: 'POST',
      url: '/graphql',
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      payload: { query }
    })
    return response.json() as {
      data: Record<string, Array<{ reason: string; score: number; product: { id: string; category: string } }>> | null
      errors?: Array<{ extensions: { code: string } }>
    }
  }
  const callsBefore = catalog.calls.length
  const forAlice = await ask(
    `{ recommendations(userId: "${alice}", limit: 3) { reason score product { id category stock } } }`,
    tokens.token(['customer'], alice)
  )
  t.same(
    forAlice.data?.recommendations?.map((r) => [r.product.id, r.reason]),
    [
      ['cup', 'BOUGHT_TOGETHER'],
      ['pot', 'BOUGHT_TOGETHER'],
      ['book', 'NEW_ARRIVAL']
    ],
    'bought together with her tea (not the tea itself; map is sold out), then the rest of the catalog'
  )
  t.same(
    forAlice.data?.recommendations?.slice(0, 2).map((r) => r.score),
    [1, 1],
    'pot counts one order like cup: the redelivered event was not counted twice'
  )
  t.ok(catalog.calls.length - callsBefore <= 2, 'product details in one batch (plus one catalog page to fill)')

  t.equal(
    (await ask(`{ recommendations(userId: "${alice}", limit: 3) { score } }`))?.errors?.[0]?.extensions.code,
    'REC_UNAUTHENTICATED',
    'without a token'
  )
  t.equal(
    (await ask(`{ recommendations(userId: "${alice}", limit: 3) { score } }`, tokens.token(['customer'], bob)))?.errors?.[0]?.extensions
      .code,
    'REC_FORBIDDEN',
    "Bob cannot read Alice's"
  )
  t.equal(
    (await ask(`{ recommendations(userId: "${alice}", limit: 3) { score } }`, tokens.token(['admin'])))?.errors,
    undefined,
    'an admin can'
  )
  t.equal((await ask('{ recommendations(limit: 500) { score } }'))?.errors?.[0]?.extensions.code, 'REC_INVALID_LIMIT')

  // Bob cancels the order with the cup: it no longer counts as bought together.
  const third = (await service.purchases.collection.find({ userId: bob }).toArray()).find((p) => p.items.some((i) => i.productId === 'cup'))
  await publish(
    createEvent(
      'shop.order.cancelled.v1',
      { orderId: third?._id ?? '', userId: bob, reason: 'changed mind' },
      { source: '/polyshop/order', key: third?._id ?? '' }
    )
  )
  await eventually(async () => (service.model.orderCount === 2 ? true : undefined), 30_000, 'the cancellation learnt')
  const similar = await ask('{ similarProducts(productId: "tea", limit: 2) { reason product { id } } }')
  t.same(
    similar.data?.similarProducts?.map((r) => [r.product.id, r.reason]),
    [
      ['pot', 'BOUGHT_TOGETHER'],
      ['cup', 'SAME_CATEGORY']
    ]
  )

  // A message that is not an event goes to the dead-letter topic with the reason.
  const dead = await consumeTopic(t, kafka, topics.dlq ?? '')
  await producer.send({ topic: topics.orders ?? '', messages: [{ key: 'junk', value: 'not an event' }] })
  const parked = await eventually(async () => dead[0], 30_000, 'the poison message parked')
  t.equal(parked.value?.toString(), 'not an event')
  t.match(parked.headers?.dlq_reason?.toString(), /ce_|event|content/)

  // A new replica (a restart) builds the same model from the purchase records.
  const again = await buildRecommendationService({
    config,
    db,
    kafka,
    logger,
    resolveKey: tokens.resolveKey,
    topics: { orders: topics.orders ?? '', deadLetters: topics.dlq ?? '' }
  })
  t.teardown(async () => {
    await again.close()
    await again.http.close()
  })
  t.equal(again.model.orderCount, 2)
  t.same(
    again.model.forUser(alice, 1).map((c) => c.productId),
    ['pot']
  )
})
