import { loadConfig } from '@polyshop/config'
import { createEvent, createKafka, toKafkaMessage } from '@polyshop/events'
import { OutboxRelay } from '@polyshop/outbox'
import { eventually, smsWebhook, smtpInbox, testDatabase, testLogger, uniqueName } from '@polyshop/testkit'
import t from 'tap'
// The real order and product services, in-process (see services/order/test/helper.ts).
import { address, build as buildOrderStack } from '../../order/test/helper.js'
import { buildNotificationService } from '../src/app.js'
import { smtpSender, webhookSmsSender } from '../src/channels/channels.js'
import { NotificationConfigSchema } from '../src/config.js'

t.test('an order placed over gRPC becomes exactly one email with its total and one SMS', async (t) => {
  const logger = testLogger().logger
  const kafka = createKafka({ clientId: 'e2e', brokers: process.env.KAFKA_BROKERS ?? '', logger })
  const stack = await buildOrderStack(t)
  const relay = new OutboxRelay({ db: stack.db, collection: 'orders', kafka, logger, pollIntervalMs: 100 })
  relay.start()
  t.teardown(() => relay.stop())

  const inbox = await smtpInbox(t)
  const webhook = await smsWebhook(t)
  const { db } = await testDatabase(t, 'notification')
  const email = smtpSender(inbox.url, 'polyshop <shop@polyshop.local>')
  // Other tests' users are unknown here: their orders go straight to the DLQ instead of retrying.
  const config = loadConfig(NotificationConfigSchema, {
    MONGODB_URL: process.env.MONGODB_URL,
    KAFKA_BROKERS: process.env.KAFKA_BROKERS,
    MAX_ATTEMPTS: '1'
  })
  const notification = await buildNotificationService({
    config,
    db,
    kafka,
    logger,
    email,
    sms: webhookSmsSender(webhook.url),
    resolveKey: stack.tokens.resolveKey,
    groupId: uniqueName('notification-e2e')
  })
  await notification.consumer.start()
  t.teardown(async () => {
    await notification.consumer.stop()
    email.close()
  })

  const userId = uniqueName('buyer')
  const producer = kafka.producer()
  await producer.connect()
  t.teardown(() => producer.disconnect())
  await producer.send({
    topic: 'user.events',
    messages: [
      toKafkaMessage(
        createEvent(
          'shop.user.registered.v1',
          { userId, email: `${userId}@example.com`, name: 'Grace', phone: '+4915100000002' },
          { source: '/polyshop/user', key: userId }
        )
      )
    ]
  })
  await eventually(
    async () => ((await db.collection('contacts').countDocuments({ _id: userId as never })) === 1 ? true : undefined),
    60_000,
    'the contact'
  )

  const client = stack.clientFor(stack.tokens.token(['customer'], userId))
  const { order } = await client.createOrder({
    items: [
      { productId: 'beanie', quantity: 2 },
      { productId: 'notebook-a5', quantity: 1 }
    ],
    shippingAddress: address,
    idempotencyKey: 'e2e'
  })
  const orderId = order?.id ?? ''
  const confirmations = () =>
    inbox.mails.map((m) => m.raw).filter((m) => m.includes(`To: ${userId}@example.com`) && m.includes('is confirmed'))
  await eventually(
    async () => (confirmations().length >= 1 && webhook.calls.some((s) => s.to === '+4915100000002') ? true : undefined),
    60_000,
    'the confirmation'
  )
  await new Promise((resolve) => setTimeout(resolve, 1500))
  t.equal(confirmations().length, 1, 'exactly one email')
  t.match(confirmations()[0], /Total: €64\.50/)
  t.match(confirmations()[0], new RegExp(orderId.slice(0, 8).toUpperCase()))
  t.same(
    webhook.calls.filter((s) => s.to === '+4915100000002').map((s) => s.text),
    [`polyshop: order ${orderId.slice(0, 8).toUpperCase()} confirmed, total €64.50.`],
    'exactly one SMS'
  )
})
