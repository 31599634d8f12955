// kafkajs restarts a crashed consumer once; if the broker is still away then, the consumer stays
// stopped for good while the service goes on answering its probes. EventConsumer starts it again
// for as long as the outage lasts.
import { createEvent, createKafka, EventConsumer, toKafkaMessage } from '@polyshop/events'
import { eventually, privateBroker, testLogger, testTopics } from '@polyshop/testkit'
import t from 'tap'

t.setTimeout(240_000)

t.test('a consumer whose broker is away longer than its retries consumes again when the broker is back', async (t) => {
  const broker = await privateBroker(t)
  const { logger, lines } = testLogger()
  const kafka = createKafka({ clientId: 'consumer-outage-test', brokers: broker.brokers, logger })
  const { orders, dlq } = (await testTopics(t, kafka, ['orders', 'dlq'], 1)) as { orders: string; dlq: string }
  const handled: string[] = []
  const consumer = new EventConsumer({
    kafka,
    groupId: `outage-${orders}`,
    topics: [orders],
    deadLetterTopic: dlq,
    logger,
    handle: async (event) => {
      handled.push(event.id)
    }
  })
  await consumer.start()
  t.teardown(() => consumer.stop())
  const producer = kafka.producer()
  const publish = async (orderId: string) => {
    await producer.connect()
    const event = createEvent('shop.order.created.v1', { orderId, userId: 'u-1' }, { source: '/polyshop/test', key: orderId })
    await producer.send({ topic: orders, messages: [toKafkaMessage(event)] })
    await producer.disconnect()
    return event.id
  }
  const before = await publish('o-before')
  await eventually(async () => (handled.includes(before) ? true : undefined), 30_000, 'the first event')

  await broker.stop()
  const said = (message: string) => lines.some((line) => line.msg === message)
  await eventually(async () => (said('the consumer stopped; starting it again') ? true : undefined), 90_000, 'the consumer to stop')
  await eventually(async () => (said('the consumer cannot start yet; trying again') ? true : undefined), 60_000, 'a restart to fail')
  await broker.start()

  const after = await publish('o-after')
  await eventually(async () => (handled.includes(after) ? true : undefined), 90_000, 'the event published after the outage')
  t.ok(consumer.stats.restarts >= 1, `started again ${consumer.stats.restarts} time(s)`)
  t.same(
    handled.filter((id) => id === before || id === after),
    [before, after],
    'each event handled once, in order'
  )
})
