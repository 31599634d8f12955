// The gateway's reader of order.events, on the real broker: every replica sees every event, from
// the moment it started (not from when its consumer group got round to joining), and what is not
// an order's status change is passed over.
import { randomUUID } from 'node:crypto'
import { timestampFromDate } from '@bufbuild/protobuf/wkt'
import { createEvent, toKafkaMessage } from '@polyshop/events'
import { OrderStatus } from '@polyshop/proto'
import { eventually, testKafka, testLogger, testTopics } from '@polyshop/testkit'
import t from 'tap'
import { OrderEventsFeed } from '../src/live/order-events-feed.js'
import type { OrderUpdate } from '../src/live/order-updates.js'

t.test('two gateway replicas each get every status change, including those made while their groups were joining', async (t) => {
  const kafka = testKafka()
  const { orders } = await testTopics(t, kafka, ['orders'])
  const producer = kafka.producer()
  await producer.connect()
  t.teardown(() => producer.disconnect())
  const { logger } = testLogger()
  const seen: Record<string, OrderUpdate[]> = { a: [], b: [] }
  const feeds = Object.keys(seen).map(
    (replica) => new OrderEventsFeed({ kafka, logger, topic: orders, publish: (update) => seen[replica]?.push(update) })
  )
  t.not(feeds[0]?.groupId, feeds[1]?.groupId, 'a consumer group of its own per process')
  t.match(feeds[0]?.groupId, /^gateway-live-/)
  for (const feed of feeds) t.teardown(() => feed.stop())

  const orderId = randomUUID()
  const userId = randomUUID()
  const changedAt = new Date()
  const send = (...events: ReturnType<typeof createEvent>[]) =>
    producer.send({ topic: orders as string, messages: events.map(toKafkaMessage) })
  // Published after the feeds were made but before they started (and so before their groups joined).
  await send(
    createEvent(
      'shop.order.status_changed.v1',
      { orderId, userId, previousStatus: OrderStatus.CONFIRMED, status: OrderStatus.PAID, changedAt: timestampFromDate(changedAt) },
      { source: '/polyshop/order', key: orderId }
    )
  )
  for (const feed of feeds) feed.start()
  await eventually(async () => (feeds.every((feed) => feed.running) ? true : undefined), 30_000, 'both feeds running')
  await producer.send({ topic: orders as string, messages: [{ key: orderId, value: 'not an event' }] })
  await send(
    createEvent('shop.order.cancelled.v1', { orderId, userId, reason: 'changed my mind' }, { source: '/polyshop/order', key: orderId })
  )
  await eventually(async () => (Object.values(seen).every((updates) => updates.length >= 2) ? true : undefined), 30_000, 'both updates')
  for (const [replica, updates] of Object.entries(seen)) {
    t.same(
      updates.map(({ id, userId: owner, status }) => ({ id, userId: owner, status })),
      [
        { id: orderId, userId, status: 'PAID' },
        { id: orderId, userId, status: 'CANCELLED' }
      ],
      `replica ${replica}: the change from before its group joined, then the cancellation; the stray message passed over`
    )
    t.equal(updates[0]?.updatedAt, changedAt.toISOString(), 'updatedAt is when the order changed')
  }
})
