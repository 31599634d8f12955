import { ensureTopics } from '@polyshop/devstack'
import { createKafka } from '@polyshop/events'
import { OutboxRelay } from '@polyshop/outbox'
import { OrderStatus } from '@polyshop/proto'
import { consumeTopic, eventually, privateBroker, testLogger } from '@polyshop/testkit'
import t from 'tap'
import { address, build } from './helper.js'

// Stops and restarts a broker, so it runs its own rather than the shared one.
t.test('orders placed while the broker is down succeed, and each event is published once when it returns', async (t) => {
  const broker = await privateBroker(t)
  await ensureTopics(broker.brokers, [{ topic: 'order.events' }])
  const logger = testLogger().logger
  const kafka = createKafka({
    clientId: 'order-outage',
    brokers: broker.brokers,
    logger,
    config: { retry: { retries: 1, initialRetryTime: 100, maxRetryTime: 500 }, connectionTimeout: 1000 }
  })
  const stack = await build(t)
  const relay = new OutboxRelay({
    db: stack.db,
    collection: 'orders',
    kafka,
    logger,
    pollIntervalMs: 100,
    minBackoffMs: 100,
    maxBackoffMs: 1000,
    sendRetries: 1
  })
  relay.start()
  t.teardown(() => relay.stop())
  const client = stack.clientFor(stack.tokens.token(['customer']))

  await broker.stop()
  const placed: string[] = []
  for (let i = 0; i < 5; i++) {
    const { order } = await client.createOrder({
      items: [{ productId: 'beanie', quantity: 1 }],
      shippingAddress: address,
      idempotencyKey: `outage-${i}`
    })
    t.equal(order?.status, OrderStatus.CONFIRMED, `order ${i} accepted while Kafka is down`)
    placed.push(order?.id ?? '')
  }
  await new Promise((resolve) => setTimeout(resolve, 2000))
  t.equal(relay.stats.published, 0, 'nothing could be published yet')

  await broker.start()
  const messages = await consumeTopic(t, kafka, 'order.events')
  await eventually(async () => (messages.length >= 5 ? true : undefined), 90_000, 'the five events')
  await new Promise((resolve) => setTimeout(resolve, 1500))
  t.same(messages.map((m) => String(m.key)).sort(), [...placed].sort(), "every order's event, each exactly once")
})
