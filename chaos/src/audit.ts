// After the run: wait until the system has settled, then hold it to what the clients saw
// acknowledged — from the databases, Kafka, the SMTP server and the SMS webhook, never from the
// services' own counters.
import { setTimeout as sleep } from 'node:timers/promises'
import { createKafka, type DecodedEvent, fromKafkaMessage, isEvent } from '@polyshop/events'
import { OrderStatus } from '@polyshop/proto'
import { messageIdOf } from '@polyshop/testkit'
import type { Kafka, KafkaMessage } from 'kafkajs'
import { type Db, MongoClient } from 'mongodb'
import pino from 'pino'
import type { InjectedFault } from './faults.js'
import type { LoadRecord } from './shoppers.js'
import type { System } from './system.js'

const LIVE = new Set(['PENDING', 'CONFIRMED', 'PAID', 'SHIPPED', 'DELIVERED'])

interface OrderRow {
  _id: string
  userId: string
  idempotencyKey: string
  status: string
  items: Array<{ productId: string; quantity: number }>
  outbox?: Array<{ id: string }>
  stockReleasePending?: boolean
}

export interface Databases {
  order: Db
  product: Db
  user: Db
  notification: Db
  recommendation: Db
  close: () => Promise<void>
}

export async function openDatabases(system: System): Promise<Databases> {
  const clients: MongoClient[] = []
  const open = (name: string) => {
    const url = system.stack.databases[name]
    if (url === undefined) throw new Error(`no database for ${name}`)
    const client = new MongoClient(url, { serverSelectionTimeoutMS: 30_000 })
    clients.push(client)
    return client.db()
  }
  return {
    order: open('order'),
    product: open('product'),
    user: open('user'),
    notification: open('notification'),
    recommendation: open('recommendation'),
    close: async () => {
      await Promise.all(clients.map((client) => client.close()))
    }
  }
}

export function chaosKafka(brokers: string): Kafka {
  return createKafka({ clientId: 'chaos-audit', brokers, logger: pino({ level: 'silent' }) })
}

/**
 * Events an aggregate's outbox holds that its relay has not published yet, and signals not yet
 * handled. `quick`: the signals only (reading every aggregate is a full scan on the dev database,
 * too heavy to repeat every few seconds while the system settles).
 */
async function outboxBacklog(db: Db, collection: string, quick: boolean): Promise<number> {
  const signals = await db.collection(`${collection}_outbox_signals`).countDocuments()
  if (quick) return signals
  const progress = new Map(
    (await db.collection<{ _id: string; published: number }>(`${collection}_outbox_progress`).find().toArray()).map((p) => [
      p._id,
      p.published
    ])
  )
  let unpublished = 0
  for await (const document of db.collection<{ _id: string; outbox?: unknown[] }>(collection).find({}, { projection: { outbox: 1 } })) {
    unpublished += Math.max(0, (document.outbox?.length ?? 0) - (progress.get(String(document._id)) ?? 0))
  }
  return unpublished + signals
}

/** Messages the group has not committed yet, over the topics it reads. */
async function consumerLag(kafka: Kafka, groupId: string, topics: string[]): Promise<number> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    let lag = 0
    const committed = await admin.fetchOffsets({ groupId, topics })
    for (const topic of topics) {
      const ends = await admin.fetchTopicOffsets(topic)
      const group = committed.find((c) => c.topic === topic)
      for (const end of ends) {
        const offset = Number(group?.partitions.find((p) => p.partition === end.partition)?.offset ?? -1)
        lag += Number(end.high) - (offset < 0 ? Number(end.low) : offset)
      }
    }
    return lag
  } finally {
    await admin.disconnect()
  }
}

/** Every message of a topic, from the first to the last offset there is now. */
export async function readTopic(kafka: Kafka, topic: string): Promise<KafkaMessage[]> {
  const admin = kafka.admin()
  await admin.connect()
  const ends = await admin.fetchTopicOffsets(topic)
  await admin.disconnect()
  const remaining = new Map(ends.filter((end) => Number(end.high) > Number(end.low)).map((end) => [end.partition, Number(end.high)]))
  const messages: KafkaMessage[] = []
  if (remaining.size === 0) return messages
  const consumer = kafka.consumer({ groupId: `chaos-audit-${topic}-${Date.now()}`, maxWaitTimeInMs: 100 })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  const finished = new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ partition, message }) => {
        messages.push(message)
        if (Number(message.offset) + 1 >= (remaining.get(partition) ?? 0)) remaining.delete(partition)
        if (remaining.size === 0) resolve()
      }
    })
  })
  await Promise.race([finished, sleep(120_000).then(() => Promise.reject(new Error(`reading ${topic} did not finish`)))])
  await consumer.disconnect()
  return messages
}

export interface Stuck {
  outboxBacklog: number
  /** Messages the notification service's consumer group has not committed (user.events and order.events). */
  notificationLag: number
  /** Likewise the recommendation service's (order.events). */
  recommendationLag: number
  /** Order attempts still "processing" (their stock not yet given back or their order not yet confirmed). */
  processingRequests: number
  /** Reservations a crash left half-done. */
  reservingReservations: number
  /** Cancelled orders whose stock release is still pending. */
  releasePending: number
  /** Notifications recorded as being sent and never marked sent. */
  sendingNotifications: number
  /**
   * Unpaid orders not yet expired. The run's orders expire a minute after they were placed; the
   * audit waits for all of them, so it reads a system at rest (stock and orders read a moment
   * apart while expiries still go on would disagree by what was released in between).
   */
  unpaidOrders: number
}

async function stuckNow(dbs: Databases, kafka: Kafka, quick: boolean): Promise<Stuck> {
  return {
    outboxBacklog: (await outboxBacklog(dbs.order, 'orders', quick)) + (await outboxBacklog(dbs.user, 'users', quick)),
    notificationLag: await consumerLag(kafka, 'notification', ['user.events', 'order.events']),
    recommendationLag: await consumerLag(kafka, 'recommendation', ['order.events']),
    processingRequests: await dbs.order.collection('order_requests').countDocuments({ state: 'processing' }),
    reservingReservations: await dbs.product.collection('reservations').countDocuments({ state: 'reserving' }),
    releasePending: await dbs.order.collection('orders').countDocuments({ stockReleasePending: true }),
    sendingNotifications: await dbs.notification.collection('notifications').countDocuments({ state: 'sending' }),
    unpaidOrders: await dbs.order.collection('orders').countDocuments({ status: { $in: ['PENDING', 'CONFIRMED'] } })
  }
}

const total = (stuck: Stuck) => Object.values(stuck).reduce((sum, n) => sum + n, 0)

/** Polls until nothing is stuck (or the time is up); resolves with the last look and how long it took. */
export async function settle(
  dbs: Databases,
  kafka: Kafka,
  timeoutMs: number,
  log: (line: string) => void
): Promise<{ stuck: Stuck; settledAfterMs: number }> {
  const began = Date.now()
  let last: Stuck | undefined
  let lastLog = 0
  while (Date.now() - began < timeoutMs) {
    last = await stuckNow(dbs, kafka, true).catch(() => last)
    if (last !== undefined && total(last) === 0) break
    if (Date.now() - lastLog > 10_000) {
      lastLog = Date.now()
      log(`  settling: ${JSON.stringify(last)}`)
    }
    await sleep(3000)
  }
  const settledAfterMs = Date.now() - began
  // The whole check once, at the end.
  return { stuck: await stuckNow(dbs, kafka, false), settledAfterMs }
}

export interface AuditReport {
  acknowledged: number
  ordersInDatabase: number
  lost: {
    total: number
    /** Acknowledged orders that are not in the order database. */
    orders: number
    /** Events in orders' outboxes that never reached order.events. */
    events: number
    /** Acknowledged cancels or status changes that the order does not show. */
    changes: number
    /** Notifications owed for an event and never received by the SMTP server or the SMS webhook. */
    notifications: number
    /** Placed orders the recommendation service never recorded. */
    learning: number
  }
  duplicated: {
    total: number
    /** Orders beyond the first for one idempotency key. */
    orders: number
    /** Distinct mails (by Message-ID) beyond one per event and channel, and SMS likewise (by idempotency key). */
    notifications: number
    /** Orders the recommendation model counts beyond the records it has (an event applied twice). */
    model: number
    /** The same mail or SMS delivered again after a crash, with the same Message-ID / idempotency key (mail clients and providers drop these). */
    resent: number
    /** Events on Kafka more than once (at-least-once publishing; consumers drop them by ce_id). */
    eventCopies: number
  }
  stock: {
    /** Units held by live orders that the shelf never gave up (or gave back twice), plus any negative stock. */
    oversold: number
    /** Units taken from the shelf that no live order holds. */
    leaked: number
    products: Array<{ id: string; initial: number; current: number; held: number }>
  }
  stuck: Stuck & { total: number; deadLettersUnexplained: number; poisonNotDeadLettered: number }
  settledAfterMs: number
  /** Examples of each failure, for whoever fixes it. */
  examples: string[]
}

export interface AuditInput {
  system: System
  dbs: Databases
  kafka: Kafka
  load: LoadRecord
  initialStock: Map<string, number>
  /** Keys of the undecodable messages put on order.events on purpose. */
  poisonKeys: string[]
  settled: { stuck: Stuck; settledAfterMs: number }
}

export async function audit(input: AuditInput): Promise<AuditReport> {
  const { system, dbs, kafka, load } = input
  const examples: string[] = []
  const example = (text: string) => {
    if (examples.length < 20) examples.push(text)
  }
  const orders = await dbs.order.collection<OrderRow>('orders').find().toArray()
  const byId = new Map(orders.map((order) => [order._id, order]))

  // Orders the clients saw acknowledged, and what became of their changes.
  let lostOrders = 0
  let lostChanges = 0
  for (const acked of load.orders) {
    const stored = byId.get(acked.id)
    if (stored === undefined) {
      lostOrders++
      example(`acknowledged order ${acked.id} (key ${acked.key}) is not in the database`)
      continue
    }
    const status = stored.status
    const ok = acked.cancelled
      ? status === 'CANCELLED'
      : acked.advancedTo === 'SHIPPED'
        ? status === 'SHIPPED' || status === 'DELIVERED'
        : acked.advancedTo === 'PAID'
          ? ['PAID', 'SHIPPED', 'DELIVERED'].includes(status) || (status === 'CANCELLED' && acked.cancelAsked === true)
          : true
    if (!ok) {
      lostChanges++
      example(
        `order ${acked.id}: the client saw ${acked.cancelled ? 'CANCELLED' : acked.advancedTo} acknowledged, the database says ${status}`
      )
    }
  }

  // One order per idempotency key.
  const perKey = new Map<string, number>()
  for (const order of orders)
    perKey.set(`${order.userId}/${order.idempotencyKey}`, (perKey.get(`${order.userId}/${order.idempotencyKey}`) ?? 0) + 1)
  const duplicateOrders = [...perKey.values()].reduce((sum, n) => sum + Math.max(0, n - 1), 0)
  for (const [key, n] of perKey) if (n > 1) example(`${n} orders for idempotency key ${key}`)

  // Every event of every order's outbox is on order.events.
  const orderMessages = await readTopic(kafka, 'order.events')
  const events = new Map<string, DecodedEvent>()
  let eventCopies = 0
  for (const message of orderMessages) {
    let event: DecodedEvent
    try {
      event = fromKafkaMessage(message)
    } catch {
      continue // the poisoned ones
    }
    if (events.has(event.id)) eventCopies++
    else events.set(event.id, event)
  }
  let lostEvents = 0
  for (const order of orders) {
    for (const record of order.outbox ?? []) {
      if (events.has(record.id)) continue
      lostEvents++
      example(`event ${record.id} of order ${order._id} is not on order.events`)
    }
  }

  // Notifications: one mail per notifying event (and one SMS where the user has a phone).
  const userMessages = await readTopic(kafka, 'user.events')
  const phones = new Map<string, boolean>()
  const owed: Array<{ id: string; userId: string; what: string }> = []
  for (const message of userMessages) {
    const event = fromKafkaMessage(message)
    if (isEvent(event, 'shop.user.registered.v1')) {
      if (!owed.some((o) => o.id === event.id)) owed.push({ id: event.id, userId: event.data.userId, what: 'welcome' })
      phones.set(event.data.userId, event.data.phone !== undefined && event.data.phone !== '')
    }
  }
  for (const event of events.values()) {
    if (isEvent(event, 'shop.order.created.v1'))
      owed.push({ id: event.id, userId: event.data.userId, what: `confirmation of ${event.data.orderId}` })
    else if (isEvent(event, 'shop.order.cancelled.v1'))
      owed.push({ id: event.id, userId: event.data.userId, what: `cancellation of ${event.data.orderId}` })
    else if (
      isEvent(event, 'shop.order.status_changed.v1') &&
      (event.data.status === OrderStatus.SHIPPED || event.data.status === OrderStatus.DELIVERED)
    )
      owed.push({ id: event.id, userId: event.data.userId, what: `progress of ${event.data.orderId}` })
  }
  const mailsById = new Map<string, number>()
  for (const mail of system.stack.mails) {
    const id = messageIdOf(mail.raw)
    if (id !== undefined) mailsById.set(id, (mailsById.get(id) ?? 0) + 1)
  }
  const smsByKey = new Map<string, number>()
  for (const sms of system.stack.sms) smsByKey.set(sms.idempotencyKey, (smsByKey.get(sms.idempotencyKey) ?? 0) + 1)
  let lostNotifications = 0
  let resent = 0
  for (const notification of owed) {
    const mails = mailsById.get(`<${notification.id}.email@polyshop>`) ?? 0
    if (mails === 0) {
      lostNotifications++
      example(`no mail for the ${notification.what} (event ${notification.id})`)
    }
    resent += Math.max(0, mails - 1)
    if (notification.what !== 'welcome' && phones.get(notification.userId) === true) {
      const sms = smsByKey.get(`${notification.id}:sms`) ?? 0
      if (sms === 0) {
        lostNotifications++
        example(`no SMS for the ${notification.what} (event ${notification.id})`)
      }
      resent += Math.max(0, sms - 1)
    }
  }
  // A mail for an event that does not exist, or two events' worth for one: counted as duplicates.
  const owedMailIds = new Set(owed.map((o) => `<${o.id}.email@polyshop>`))
  const strayMails = [...mailsById.keys()].filter((id) => !owedMailIds.has(id)).length
  for (const id of [...mailsById.keys()].filter((id) => !owedMailIds.has(id)).slice(0, 3))
    example(`a mail with Message-ID ${id} that no event owes`)

  // The recommendation service: one purchase record per placed order, and a model that counts each once.
  const purchases = await dbs.recommendation.collection<{ _id: string; cancelled: boolean; items: unknown[] }>('purchases').find().toArray()
  const purchaseIds = new Set(purchases.map((p) => p._id))
  let lostLearning = 0
  for (const event of events.values()) {
    if (isEvent(event, 'shop.order.created.v1') && !purchaseIds.has(event.data.orderId)) {
      lostLearning++
      example(`the recommendation service never recorded order ${event.data.orderId}`)
    }
  }
  const active = purchases.filter((p) => !p.cancelled && p.items.length > 0).length
  const modelOrders = await modelOrderCount(system.stack.urls.recommendation ?? '')
  const modelDuplicates = Math.max(0, modelOrders - active)
  if (modelDuplicates > 0) example(`the model counts ${modelOrders} orders, the records hold ${active}`)

  // Stock: what left the shelf is what live orders hold.
  const products = await dbs.product
    .collection<{ _id: string; stock: number }>('products')
    .find({ _id: { $in: [...input.initialStock.keys()] } })
    .toArray()
  const held = new Map<string, number>()
  for (const order of orders) {
    if (!LIVE.has(order.status)) continue
    for (const item of order.items) held.set(item.productId, (held.get(item.productId) ?? 0) + item.quantity)
  }
  let oversold = 0
  let leaked = 0
  const stockRows = products.map((product) => {
    const initial = input.initialStock.get(product._id) ?? 0
    const taken = initial - product.stock
    const holding = held.get(product._id) ?? 0
    const over = Math.max(0, holding - taken) + Math.max(0, -product.stock)
    const leak = Math.max(0, taken - holding)
    if (over > 0) example(`${product._id}: ${holding} units held by live orders, ${taken} taken from stock (${product.stock} left)`)
    if (leak > 0) example(`${product._id}: ${taken} units taken from stock, ${holding} held by live orders`)
    oversold += over
    leaked += leak
    return { id: product._id, initial, current: product.stock, held: holding }
  })

  // Dead letters: only the poisoned messages, each dead-lettered by both consumers of order.events.
  const poison = new Set(input.poisonKeys)
  let unexplained = 0
  let missingPoison = 0
  for (const [topic, group] of [
    ['notification.dlq', 'notification'],
    ['recommendation.dlq', 'recommendation']
  ] as const) {
    const letters = await readTopic(kafka, topic)
    const keys = new Set<string>()
    for (const letter of letters) {
      const key = letter.key?.toString() ?? ''
      if (poison.has(key)) keys.add(key)
      else {
        unexplained++
        example(`${topic} holds ${key || 'a message'}: ${letter.headers?.dlq_reason?.toString().slice(0, 160)}`)
      }
    }
    for (const key of poison) {
      if (keys.has(key)) continue
      missingPoison++
      example(`the poisoned message ${key} is not in ${topic} (group ${group})`)
    }
  }

  const stuck = input.settled.stuck
  const stuckTotal = total(stuck) + unexplained + missingPoison
  const lost = { orders: lostOrders, events: lostEvents, changes: lostChanges, notifications: lostNotifications, learning: lostLearning }
  const duplicated = {
    orders: duplicateOrders,
    notifications: strayMails,
    model: modelDuplicates,
    resent,
    eventCopies
  }
  return {
    acknowledged: load.orders.length,
    ordersInDatabase: orders.length,
    lost: { total: Object.values(lost).reduce((sum, n) => sum + n, 0), ...lost },
    duplicated: { total: duplicated.orders + duplicated.notifications + duplicated.model, ...duplicated },
    stock: { oversold, leaked, products: stockRows },
    stuck: { ...stuck, total: stuckTotal, deadLettersUnexplained: unexplained, poisonNotDeadLettered: missingPoison },
    settledAfterMs: input.settled.settledAfterMs,
    examples
  }
}

/** The recommendation model's own count of orders, from its /metrics. */
async function modelOrderCount(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text()
  const value = /^recommendation_model_orders(?:\{[^}]*\})? (\S+)$/m.exec(text)?.[1]
  return value === undefined ? Number.NaN : Number(value)
}

/** p99 latency and error rate of the requests that overlapped a fault, and of the others. */
export function latencyByFault(load: LoadRecord, faults: InjectedFault[]) {
  const overlaps = (start: number, end: number) => faults.some((f) => start <= f.endedAt && end >= f.startedAt)
  const summary = (attempts: LoadRecord['attempts']) => {
    const durations = attempts.map((a) => a.end - a.start).sort((a, b) => a - b)
    const at = (q: number) => durations[Math.min(durations.length - 1, Math.floor(q * durations.length))] ?? 0
    const failed = attempts.filter((a) => a.failed).length
    return { requests: attempts.length, p50Ms: at(0.5), p99Ms: at(0.99), errorRate: attempts.length === 0 ? 0 : failed / attempts.length }
  }
  return {
    duringFaults: summary(load.attempts.filter((a) => overlaps(a.start, a.end))),
    outsideFaults: summary(load.attempts.filter((a) => !overlaps(a.start, a.end)))
  }
}
