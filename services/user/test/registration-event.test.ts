import { createKafka, fromKafkaMessage } from '@polyshop/events'
import { OutboxRelay } from '@polyshop/outbox'
import { consumeTopic, eventually, testLogger } from '@polyshop/testkit'
import t from 'tap'
import { build, register } from './helper.js'

t.test('registration yields exactly one shop.user.registered.v1 on user.events, with the CloudEvents headers', async (t) => {
  const { app, db } = await build(t)
  const { logger } = testLogger()
  const kafka = createKafka({ clientId: 'user-test', brokers: process.env.KAFKA_BROKERS ?? '', logger })
  const relay = new OutboxRelay({ db, collection: 'users', kafka, logger, pollIntervalMs: 100 })
  relay.start()
  t.teardown(() => relay.stop())
  const messages = await consumeTopic(t, kafka, 'user.events')

  const { user } = await register(app, 'event@example.com', { phone: '+4915199999999', name: 'Event Person' })
  const mine = () => messages.filter((m) => String(m.key) === user.id)
  await eventually(async () => (mine().length > 0 ? true : undefined), 30_000, 'the registration event')
  await new Promise((resolve) => setTimeout(resolve, 1000))
  t.equal(mine().length, 1, 'exactly one')

  const [message] = mine()
  if (message === undefined) return
  const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]))
  t.match(headers, {
    ce_specversion: '1.0',
    ce_type: 'shop.user.registered.v1',
    ce_source: '/polyshop/user',
    'content-type': 'application/json'
  })
  t.match(headers.ce_id, /^[0-9a-f-]{36}$/)
  t.match(headers.traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/)
  t.ok(Math.abs(Date.parse(headers.ce_time ?? '') - Date.now()) < 60_000)
  const event = fromKafkaMessage(message)
  t.match(event.data, { userId: user.id, email: 'event@example.com', name: 'Event Person', phone: '+4915199999999' })
})
