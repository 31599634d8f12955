import { MongoClient } from 'mongodb'
import { median } from '../compare.js'
import type { BenchContext, ScenarioReport } from '../context.js'
import { fixedRate, saturation } from '../context.js'
import { measure } from '../measure.js'
import { round } from './framework-cost.js'

const ADDRESS = { name: 'Bench', line1: '1 Load St', city: 'Berlin', postalCode: '10115', country: 'DE' }
const ORDER_BODY = JSON.stringify({ items: [{ productId: 'canvas-tote', quantity: 1 }], shippingAddress: ADDRESS })

async function plentyOfStock(context: BenchContext): Promise<void> {
  const response = await fetch(`${context.stack.gateway}/api/v1/products/canvas-tote`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await context.adminToken()}` },
    body: JSON.stringify({ stock: 1_000_000 })
  })
  if (!response.ok) throw new Error(`setting stock answered ${response.status}: ${await response.text()}`)
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

/** 6. Order placed → notification recorded, through the outbox, Kafka and the consumer. */
export async function orderToNotification(context: BenchContext): Promise<ScenarioReport> {
  const { stack, settings } = context
  await plentyOfStock(context)
  const { token, userId } = await context
    .customerToken()
    .then(async (t) => ({ token: t, userId: JSON.parse(Buffer.from(t.split('.')[1] ?? '', 'base64url').toString()).sub as string }))
  const orders = new MongoClient(stack.databases.order ?? '')
  const notifications = new MongoClient(stack.databases.notification ?? '')
  try {
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
    for (let i = 0; i < 1200 && (await recordedFor()) < 1; i++) await new Promise((r) => setTimeout(r, 100))
    const { rate, orders: count } = settings.events
    await measure({ ...orderLoad(stack.gateway, token), connections: 4, overallRate: rate, amount: count }, {})
    let recorded: Array<{ subject: string; createdAt: Date }> = []
    for (let i = 0; i < 600; i++) {
      recorded = await mails.find({ userId, channel: 'email', eventType: 'shop.order.created.v1' }).toArray()
      if (recorded.length >= count + 1) break
      await new Promise((r) => setTimeout(r, 100))
    }
    if (recorded.length < count + 1) throw new Error(`only ${recorded.length - 1} of ${count} order notifications were recorded`)
    const placed = await orders.db().collection<{ _id: string; createdAt: Date }>('orders').find({ userId }).toArray()
    const placedAt = new Map(placed.map((o) => [o._id.slice(0, 8).toUpperCase(), o.createdAt.getTime()]))
    const probeId = (
      await orders.db().collection<{ _id: string; idempotencyKey: string }>('orders').findOne({ userId, idempotencyKey: 'bench-probe' })
    )?._id
    const latencies = recorded
      .filter((mail) => probeId === undefined || !mail.subject.includes(probeId.slice(0, 8).toUpperCase()))
      .map((mail) => {
        const id = /order ([0-9A-F-]{8})/.exec(mail.subject)?.[1] ?? ''
        return mail.createdAt.getTime() - (placedAt.get(id) ?? Number.NaN)
      })
      .filter((ms) => Number.isFinite(ms))
      .sort((a, b) => a - b)
    const percentile = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? Number.NaN
    return {
      title: `6. Order placed → notification recorded, end to end through Kafka at ${rate} orders/s`,
      ratios: [
        { name: 'p50 latency', median: percentile(50), min: latencies[0] ?? 0, max: percentile(50), goal: 50, atMost: true, unit: 'ms' },
        {
          name: 'p99 latency',
          median: percentile(99),
          min: percentile(99),
          max: latencies.at(-1) ?? 0,
          goal: 250,
          atMost: true,
          unit: 'ms'
        }
      ],
      numbers: { orders: count, 'matched notifications': latencies.length, 'max ms': latencies.at(-1) ?? 0 }
    }
  } finally {
    await Promise.all([orders.close(), notifications.close()])
  }
}
