import { createEvent } from '@polyshop/events'
import { consumeTopic, eventually, privateBroker, testDatabase, testKafka, testLogger, testTopics } from '@polyshop/testkit'
import t from 'tap'
import { type OutboxFields, OutboxRelay, OutboxWriter } from '../src/index.js'

interface Order extends OutboxFields {
  _id: string
  status: string
}

t.test('an event written while the broker is down is delivered once after it comes back', async (t) => {
  const broker = await privateBroker(t)
  const kafka = testKafka(broker.brokers)
  const { orders: topic } = (await testTopics(t, kafka, ['orders'])) as { orders: string }
  const { db } = await testDatabase(t)
  const { logger } = testLogger()
  const relay = new OutboxRelay({
    db,
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
  const writer = new OutboxWriter<Order>({ db, collection: 'orders', logger, onCommit: () => relay.wake() })
  const signalsLeft = () => db.collection('orders_outbox_signals').countDocuments()

  const event = (orderId: string) => ({
    ...createEvent(
      'shop.order.created.v1',
      { orderId, userId: 'u-1', total: { amount: 999n, currency: 'EUR' } },
      { source: '/polyshop/order', key: orderId }
    ),
    topic
  })
  const before = event('o-before')
  await writer.insertOne({ _id: 'o-before', status: 'CONFIRMED' }, [before])
  await eventually(async () => (relay.stats.published === 1 ? true : undefined), 20_000, 'the first event')

  await broker.stop()
  const during = event('o-during')
  await writer.insertOne({ _id: 'o-during', status: 'CONFIRMED' }, [during])
  // The relay is now failing to reach Kafka and retrying with back-off.
  await new Promise((resolve) => setTimeout(resolve, 3000))
  t.equal(await signalsLeft(), 1, 'the event waits in MongoDB while the broker is down')
  t.equal(relay.stats.published, 1)

  await broker.start()
  await eventually(
    async () => (relay.stats.published === 2 && (await signalsLeft()) === 0 ? true : undefined),
    60_000,
    'delivery after the broker returned'
  )

  // Read the whole topic back: both events, each exactly once.
  const messages = await consumeTopic(t, kafka, topic)
  await eventually(async () => (messages.length >= 2 ? true : undefined), 30_000, 'both events')
  await new Promise((resolve) => setTimeout(resolve, 1000))
  const seen = messages.map((message) => String(message.headers?.ce_id))
  t.same(
    seen.filter((id) => id === during.id),
    [during.id],
    'the event written during the outage, once'
  )
  t.same(
    seen.filter((id) => id === before.id),
    [before.id],
    'the earlier event, once'
  )
  t.equal(seen.length, 2)
})
