import { loadConfig } from '@polyshop/config'
import { createEvent, createKafka, type EventRecord, toKafkaMessage } from '@polyshop/events'
import { consumeTopic, eventually, smsWebhook, smtpInbox, testDatabase, testLogger, testTokens, testTopics } from '@polyshop/testkit'
import type { Kafka } from 'kafkajs'
import t, { type Test } from 'tap'
import { buildNotificationService } from '../src/app.js'
import { smtpSender, webhookSmsSender } from '../src/channels/channels.js'
import { NotificationConfigSchema } from '../src/config.js'

async function setUp(t: Test, env: Record<string, string> = {}) {
  const { db } = await testDatabase(t, 'notification')
  const logger = testLogger().logger
  const kafka = createKafka({ clientId: 'notification-test', brokers: process.env.KAFKA_BROKERS ?? '', logger })
  const topics = (await testTopics(t, kafka, ['users', 'orders', 'dlq'], 1)) as { users: string; orders: string; dlq: string }
  const inbox = await smtpInbox(t)
  const sms = await smsWebhook(t)
  const config = loadConfig(NotificationConfigSchema, {
    MONGODB_URL: process.env.MONGODB_URL,
    KAFKA_BROKERS: process.env.KAFKA_BROKERS,
    SMTP_URL: inbox.url,
    ...env
  })
  const email = smtpSender(inbox.url, config.SMTP_FROM)
  const tokens = testTokens()
  const service = await buildNotificationService({
    config,
    db,
    kafka,
    logger,
    email,
    sms: webhookSmsSender(sms.url),
    resolveKey: tokens.resolveKey,
    topics: { users: topics.users, orders: topics.orders, deadLetters: topics.dlq },
    groupId: `notification-${topics.users}`
  })
  await service.consumer.start()
  t.teardown(async () => {
    await service.consumer.stop()
    email.close()
    await service.http.close()
  })
  const producer = kafka.producer()
  await producer.connect()
  t.teardown(() => producer.disconnect())
  const publish = async (event: EventRecord, topic: string) => {
    await producer.send({ topic, messages: [toKafkaMessage(event)] })
  }
  return { service, kafka, topics, inbox, sms, publish, producer, tokens }
}

const source = { source: '/polyshop/test' }

function registered(userId: string, phone?: string) {
  return createEvent(
    'shop.user.registered.v1',
    { userId, email: `${userId}@example.com`, name: 'Ada', ...(phone === undefined ? {} : { phone }) },
    { ...source, key: userId }
  )
}

function orderCreated(userId: string, orderId: string) {
  return createEvent(
    'shop.order.created.v1',
    {
      orderId,
      userId,
      items: [
        { productId: 'beanie', name: 'Ribbed Beanie', quantity: 2, unitPrice: { amount: 2500n, currency: 'EUR' } },
        { productId: 'notebook-a5', name: 'Dotted Notebook A5', quantity: 1, unitPrice: { amount: 1450n, currency: 'EUR' } }
      ],
      total: { amount: 6450n, currency: 'EUR' }
    },
    { ...source, key: orderId }
  )
}

t.test('a welcome mail, then an order confirmation by email and SMS with the right total', async (t) => {
  const { topics, inbox, sms, publish } = await setUp(t)
  await publish(registered('u1', '+4915100000001'), topics.users)
  await eventually(async () => (inbox.mails.length >= 1 ? true : undefined), 30_000, 'the welcome mail')
  t.match(inbox.mails[0]?.raw, /Subject: Welcome to polyshop/)
  t.same(inbox.mails[0]?.to, ['u1@example.com'])
  t.equal(sms.calls.length, 0, 'no SMS for a welcome')

  const order = orderCreated('u1', 'a1b2c3d4-0000-4000-8000-000000000001')
  await publish(order, topics.orders)
  await eventually(async () => (inbox.mails.length >= 2 && sms.calls.length >= 1 ? true : undefined), 30_000, 'the confirmation')
  const mail = inbox.mails[1]?.raw ?? ''
  t.match(mail, /Subject: Your polyshop order A1B2C3D4 is confirmed/)
  t.match(mail, /2 × Ribbed Beanie — €50\.00/)
  t.match(mail, /Total: €64\.50/)
  t.match(mail, new RegExp(`Message-ID: <${order.id}\\.email@polyshop>`, 'i'))
  t.same(sms.calls, [
    { to: '+4915100000001', text: 'polyshop: order A1B2C3D4 confirmed, total €64.50.', idempotencyKey: `${order.id}:sms` }
  ])
})

t.test('a profile update changes the name and the phone the next notifications use', async (t) => {
  const { service, topics, inbox, sms, publish } = await setUp(t)
  // Users and orders are different topics, consumed side by side: the order is sent once the
  // change is applied (as it would be for a customer who changes the profile, then orders).
  const handled = async (count: number) =>
    await eventually(async () => (service.consumer.stats.handled >= count ? true : undefined), 30_000, `${count} events handled`)
  const updated = (phone?: string) =>
    createEvent(
      'shop.user.profile_updated.v1',
      { userId: 'u3', email: 'u3@example.com', name: 'Grace', ...(phone === undefined ? {} : { phone }) },
      { ...source, key: 'u3' }
    )
  await publish(registered('u3', '+4915100000003'), topics.users)
  await publish(updated('+4915100000004'), topics.users)
  await handled(2)
  await publish(orderCreated('u3', 'b1b2c3d4-0000-4000-8000-000000000003'), topics.orders)
  await eventually(async () => (inbox.mails.length >= 2 && sms.calls.length >= 1 ? true : undefined), 30_000, 'the confirmation')
  t.match(inbox.mails[1]?.raw, /Hello Grace,/, 'the new name')
  t.equal(sms.calls[0]?.to, '+4915100000004', 'the new phone')

  await publish(updated(), topics.users)
  await handled(4)
  await publish(orderCreated('u3', 'c1b2c3d4-0000-4000-8000-000000000003'), topics.orders)
  await eventually(async () => (inbox.mails.length >= 3 ? true : undefined), 30_000, 'the second confirmation')
  await new Promise((resolve) => setTimeout(resolve, 500))
  t.equal(sms.calls.length, 1, 'no SMS once the phone number is removed')
})

t.test('the same event delivered twice sends one email', async (t) => {
  const { service, topics, inbox, publish } = await setUp(t)
  await publish(registered('u2'), topics.users)
  const order = orderCreated('u2', 'order-twice')
  await publish(order, topics.orders)
  await publish(order, topics.orders)
  await publish(registered('u2-marker'), topics.users)
  await eventually(async () => (service.consumer.stats.handled >= 4 ? true : undefined), 30_000, 'all four messages handled')
  await new Promise((resolve) => setTimeout(resolve, 500))
  t.equal(inbox.mails.filter((m) => /order-tw|ORDER-TW/i.test(m.raw)).length, 1, 'one confirmation')
  t.equal(inbox.mails.length, 3, 'welcome, confirmation, the second welcome')
})

t.test('a poison message goes to the DLQ with the reason and its headers; the next message is still processed', async (t) => {
  const { topics, inbox, publish, producer, kafka } = await setUp(t)
  const dlq = await consumeTopic(t, kafka as Kafka, topics.dlq)
  await producer.send({
    topic: topics.orders,
    messages: [{ key: 'poison', value: '{not json', headers: { ce_id: 'p-1', ce_type: 'shop.order.created.v1' } }]
  })
  await publish(registered('u3'), topics.users)
  await eventually(async () => (dlq.length >= 1 && inbox.mails.length >= 1 ? true : undefined), 30_000, 'dead letter and the next mail')
  const headers = Object.fromEntries(Object.entries(dlq[0]?.headers ?? {}).map(([k, v]) => [k, String(v)]))
  t.match(headers, { ce_id: 'p-1', ce_type: 'shop.order.created.v1', dlq_topic: topics.orders, dlq_reason: /^undecodable: missing header/ })
  t.equal(String(dlq[0]?.value), '{not json', 'the original value')
  t.equal(String(dlq[0]?.key), 'poison')
})

t.test('an order for an unknown user is retried, then dead-lettered with the reason', async (t) => {
  const { service, topics, publish, kafka } = await setUp(t, { MAX_ATTEMPTS: '2' })
  const dlq = await consumeTopic(t, kafka as Kafka, topics.dlq)
  await publish(orderCreated('nobody', 'order-orphan'), topics.orders)
  await eventually(async () => (dlq.length >= 1 ? true : undefined), 30_000, 'the dead letter')
  t.match(String(dlq[0]?.headers?.dlq_reason), /failed 2 times: no contact details for user nobody/)
  t.equal(service.consumer.stats.retries, 1)
})

t.test('an SMTP server refusing with 421 holds the mail until it is back, however long: sent once, nothing dead-lettered', async (t) => {
  // Two tries would be spent in well under a second: an outage must not count as tries.
  const { service, topics, inbox, publish, kafka } = await setUp(t, { MAX_ATTEMPTS: '2' })
  const dlq = await consumeTopic(t, kafka as Kafka, topics.dlq)
  await publish(registered('u-outage'), topics.users)
  await eventually(async () => (inbox.mails.length >= 1 ? true : undefined), 30_000, 'the welcome')
  inbox.setFault('refuse')
  await publish(orderCreated('u-outage', 'order-during-refusal'), topics.orders)
  await eventually(async () => (service.consumer.stats.retries >= 3 ? true : undefined), 30_000, 'tries against the refusing server')
  inbox.setFault(undefined)
  await eventually(async () => (inbox.mails.some((m) => /order-du/i.test(m.raw)) ? true : undefined), 30_000, 'the confirmation')
  t.equal(inbox.mails.filter((m) => /order-du/i.test(m.raw)).length, 1, 'one confirmation, after the refusals')
  t.same(dlq, [], 'nothing dead-lettered')
})

t.test('admins list what was sent; others may not', async (t) => {
  const { service, topics, inbox, publish, tokens } = await setUp(t)
  await publish(registered('u4'), topics.users)
  await eventually(async () => (inbox.mails.length >= 1 ? true : undefined), 30_000, 'the mail')
  await eventually(
    async () => ((await service.notifier.notifications.countDocuments({ state: 'sent' })) === 1 ? true : undefined),
    10_000,
    'recorded as sent'
  )
  const res = await service.http.inject({
    url: '/notifications?recipient=u4@example.com',
    headers: { authorization: `Bearer ${tokens.token(['admin'])}` }
  })
  t.equal(res.statusCode, 200)
  t.match(res.json().items, [{ channel: 'email', recipient: 'u4@example.com', type: 'shop.user.registered.v1', state: 'sent' }])
  t.equal(
    (await service.http.inject({ url: '/notifications', headers: { authorization: `Bearer ${tokens.token(['customer'])}` } })).statusCode,
    403
  )
  t.equal(
    (await service.http.inject({ url: '/notifications?limit=0', headers: { authorization: `Bearer ${tokens.token(['admin'])}` } }))
      .statusCode,
    400
  )
})
