import { testKafka } from '@polyshop/testkit'
import type { Kafka } from 'kafkajs'
import { MongoClient } from 'mongodb'
import { median } from '../compare.js'
import type { BenchContext, ScenarioReport } from '../context.js'
import { fixedRate, saturation } from '../context.js'
import { measure } from '../measure.js'
import { round } from './framework-cost.js'

const ADDRESS = { name: 'Bench', line1: '1 Load St', city: 'Berlin', postalCode: '10115', country: 'DE' }
const orderBody = (productId: string) => JSON.stringify({ items: [{ productId, quantity: 1 }], shippingAddress: ADDRESS })
const ORDER_BODY = orderBody('canvas-tote')
/** Scenario 6 spreads its orders over ten products, as a shop's orders are: stock of one product is taken one order at a time. */
const SPREAD = [
  'canvas-tote',
  'beanie',
  'green-tea-sencha',
  'gooseneck-kettle',
  'desk-lamp',
  'wool-socks',
  'chai-spice-blend',
  'notebook-a5',
  'rain-jacket',
  'cast-iron-skillet'
]

export async function plentyOfStock(context: BenchContext, productIds: readonly string[] = ['canvas-tote']): Promise<void> {
  for (const id of productIds) {
    const response = await fetch(`${context.stack.gateway}/api/v1/products/${id}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await context.adminToken()}` },
      body: JSON.stringify({ stock: 1_000_000 })
    })
    if (!response.ok) throw new Error(`setting the stock of ${id} answered ${response.status}: ${await response.text()}`)
  }
}

function orderLoad(gateway: string, token: string) {
  return {
    url: `${gateway}/api/v1/orders`,
    method: 'POST' as const,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'idempotency-key': 'bench-[<id>]' },
    body: ORDER_BODY,
    idReplacement: true
  }
}

/** 5. POST /api/v1/orders: gateway → gRPC → product gRPC → MongoDB → outbox. */
export async function placeOrders(context: BenchContext): Promise<ScenarioReport> {
  const { stack, settings, pids } = context
  await plentyOfStock(context)
  const token = await context.customerToken()
  const watched = { gateway: pids.gateway ?? 0, order: pids.order ?? 0, product: pids.product ?? 0 }
  const saturated = []
  const atRate = []
  for (let round = 0; round < settings.rounds; round++) {
    // Every order takes stock of the same product, serialized per product in the product service:
    // 8 connections saturate it; more only queue past the order service's 3 s inventory deadline.
    const full = await measure({ ...saturation(settings, orderLoad(stack.gateway, token)), connections: 8 }, watched)
    saturated.push(full)
    // Latency below saturation: half of what this round sustained.
    atRate.push(
      await measure(fixedRate(settings, { ...orderLoad(stack.gateway, token) }, Math.max(1, Math.floor(full.throughput / 2))), watched)
    )
  }
  return {
    title: '5. POST /api/v1/orders through gateway → gRPC → inventory gRPC → MongoDB → outbox',
    ratios: [],
    numbers: {
      'orders/s at saturation': Math.round(median(saturated.map((r) => r.throughput))),
      'p50 / p99 ms at half the saturation rate': `${median(atRate.map((r) => r.p50))} / ${median(atRate.map((r) => r.p99))}`,
      'CPU ms/order gateway': round(median(saturated.map((r) => r.cpuPerRequest.gateway ?? 0))),
      'CPU ms/order order service': round(median(saturated.map((r) => r.cpuPerRequest.order ?? 0))),
      'CPU ms/order product service': round(median(saturated.map((r) => r.cpuPerRequest.product ?? 0)))
    }
  }
}

/** Resolves once the groups have committed every message of the topic (two minutes at most). */
async function consumersCaughtUp(kafka: Kafka, topic: string, groups: string[]): Promise<void> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    let behind = Number.POSITIVE_INFINITY
    for (let i = 0; i < 1200; i++) {
      const ends = new Map((await admin.fetchTopicOffsets(topic)).map((end) => [end.partition, Number(end.high)]))
      behind = 0
      for (const groupId of groups) {
        const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] })
        for (const partition of committed?.partitions ?? [])
          behind += Math.max(0, (ends.get(partition.partition) ?? 0) - Math.max(0, Number(partition.offset)))
      }
      if (behind === 0) return
      await new Promise((r) => setTimeout(r, 100))
    }
    throw new Error(`the consumers of ${topic} are still ${behind} messages behind after two minutes`)
  } finally {
    await admin.disconnect()
  }
}

/** 6. Order placed → notification recorded, through the outbox, Kafka and the consumer. */
export async function orderToNotification(context: BenchContext): Promise<ScenarioReport> {
  const { stack, settings } = context
  await plentyOfStock(context, SPREAD)
  const { token, userId } = await context
    .customerToken()
    .then(async (t) => ({ token: t, userId: JSON.parse(Buffer.from(t.split('.')[1] ?? '', 'base64url').toString()).sub as string }))
  const orders = new MongoClient(stack.databases.order ?? '')
  const notifications = new MongoClient(stack.databases.notification ?? '')
  // When each order's event reached Kafka (the producer's timestamp; the first copy, should the
  // relay ever send one twice), to split the latency into the relay's part and the consumer's.
  const kafka = testKafka(undefined, 'polyshop-bench')
  const watcher = kafka.consumer({ groupId: `polyshop-bench-${Date.now()}`, maxWaitTimeInMs: 100 })
  const onKafka = new Map<string, number>()
  try {
    await watcher.connect()
    await watcher.subscribe({ topic: 'order.events', fromBeginning: true })
    await watcher.run({
      eachMessage: async ({ message }) => {
        const key = String(message.key)
        if (String(message.headers?.ce_type) === 'shop.order.created.v1' && !onKafka.has(key)) onKafka.set(key, Number(message.timestamp))
      }
    })
    // The notification service must know the customer (user.events) before it can mail them.
    const contacts = notifications.db().collection('contacts')
    for (let i = 0; i < 300 && (await contacts.countDocuments({ _id: userId as never })) === 0; i++)
      await new Promise((r) => setTimeout(r, 100))
    const mails = notifications.db().collection<{ subject: string; createdAt: Date; userId: string; channel: string }>('notifications')
    const recordedFor = () => mails.countDocuments({ userId, channel: 'email', eventType: 'shop.order.created.v1' })
    // A probe order first: once its mail is recorded, the backlog of earlier scenarios' orders is behind us.
    const probe = await fetch(`${stack.gateway}/api/v1/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'idempotency-key': 'bench-probe' },
      body: ORDER_BODY
    })
    if (probe.status !== 201) throw new Error(`the probe order answered ${probe.status}`)
    const probeOrder = ((await probe.json()) as { id: string }).id
    for (let i = 0; i < 1200 && ((await recordedFor()) < 1 || !onKafka.has(probeOrder)); i++) await new Promise((r) => setTimeout(r, 100))
    // And every other consumer of order.events (the recommendation model) has caught up too, or
    // its backlog from scenario 5 would be measured here as load on the shared database.
    await consumersCaughtUp(kafka, 'order.events', ['notification', 'recommendation'])
    const { rate, orders: count } = settings.events
    await measure(
      { ...orderLoad(stack.gateway, token), bodies: SPREAD.map(orderBody), connections: 4, overallRate: rate, amount: count },
      {}
    )
    let recorded: Array<{ subject: string; createdAt: Date }> = []
    for (let i = 0; i < 600; i++) {
      recorded = await mails.find({ userId, channel: 'email', eventType: 'shop.order.created.v1' }).toArray()
      if (recorded.length >= count + 1) break
      await new Promise((r) => setTimeout(r, 100))
    }
    if (recorded.length < count + 1) throw new Error(`only ${recorded.length - 1} of ${count} order notifications were recorded`)
    const placed = await orders.db().collection<{ _id: string; createdAt: Date }>('orders').find({ userId }).toArray()
    const byReference = new Map(placed.map((o) => [o._id.slice(0, 8).toUpperCase(), o]))
    const stages = recorded
      .map((mail) => {
        const order = byReference.get(/order ([0-9A-F-]{8})/.exec(mail.subject)?.[1] ?? '')
        if (order === undefined || order._id === probeOrder) return undefined
        const committed = order.createdAt.getTime()
        const published = onKafka.get(order._id) ?? Number.NaN
        return { total: mail.createdAt.getTime() - committed, relay: published - committed, consumer: mail.createdAt.getTime() - published }
      })
      .filter((stage) => stage !== undefined && Number.isFinite(stage.total))
      .map((stage) => stage as { total: number; relay: number; consumer: number })
    const sorted = (values: number[]) => values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b)
    const latencies = sorted(stages.map((stage) => stage.total))
    const percentile = (values: number[], p: number) =>
      values[Math.min(values.length - 1, Math.floor((p / 100) * values.length))] ?? Number.NaN
    const relay = sorted(stages.map((stage) => stage.relay))
    const consumer = sorted(stages.map((stage) => stage.consumer))
    return {
      title: `6. Order placed → notification recorded, end to end through Kafka at ${rate} orders/s`,
      ratios: [
        {
          name: 'p50 latency',
          // One measurement of every order, not rounds: no spread to show.
          median: percentile(latencies, 50),
          min: percentile(latencies, 50),
          max: percentile(latencies, 50),
          goal: 50,
          atMost: true,
          unit: 'ms'
        },
        {
          name: 'p99 latency',
          median: percentile(latencies, 99),
          min: percentile(latencies, 99),
          max: percentile(latencies, 99),
          goal: 250,
          atMost: true,
          unit: 'ms'
        }
      ],
      numbers: {
        orders: count,
        'matched notifications': latencies.length,
        'min / max ms': `${latencies[0] ?? 0} / ${latencies.at(-1) ?? 0}`,
        'commit → on Kafka (outbox relay) p50 / p99 ms': `${percentile(relay, 50)} / ${percentile(relay, 99)}`,
        'on Kafka → notification recorded (consumer) p50 / p99 ms': `${percentile(consumer, 50)} / ${percentile(consumer, 99)}`
      }
    }
  } finally {
    await Promise.all([orders.close(), notifications.close(), watcher.disconnect()])
  }
}
