import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { type GraphqlWsClient, graphqlWs, type WsMessage } from '@polyshop/testkit'
import WebSocket from 'ws'
import type { BenchContext, ScenarioReport } from '../context.js'
import { plentyOfStock } from './orders.js'

const SUBSCRIPTION = 'subscription { orderUpdated { id status updatedAt } }'
const ORDER = JSON.stringify({
  items: [{ productId: 'notebook-a5', quantity: 1 }],
  shippingAddress: { name: 'Bench', line1: '1 Load St', city: 'Berlin', postalCode: '10115', country: 'DE' }
})

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Resident memory of a process, in bytes (Linux). */
function rss(pid: number): number {
  const line = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return Number(line?.[1] ?? Number.NaN) * 1024
}

/** The gateway's V8 heap in use, from its own metrics. */
async function heapUsed(managementUrl: string): Promise<number> {
  const text = await (await fetch(`${managementUrl}/metrics`)).text()
  return Number(/^nodejs_heap_size_used_bytes\{[^}]*\} (\S+)$/m.exec(text)?.[1] ?? Number.NaN)
}

/** Asks a Node process to collect its garbage, through its inspector (Chrome DevTools protocol). */
async function collectGarbage(inspector: string): Promise<void> {
  const [target] = (await (await fetch(`${inspector}/json/list`)).json()) as Array<{ webSocketDebuggerUrl: string }>
  if (target === undefined) throw new Error(`no inspector target at ${inspector}`)
  const socket = new WebSocket(target.webSocketDebuggerUrl)
  await once(socket, 'open')
  socket.send(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' }))
  await once(socket, 'message')
  socket.close()
}

/** What the gateway holds once its garbage is gone. */
async function settled(context: BenchContext, pid: number, managementUrl: string) {
  await sleep(1000)
  await collectGarbage(context.gatewayInspector)
  return { rss: rss(pid), heap: await heapUsed(managementUrl) }
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN

/**
 * Orders placed one after another at `rate`; every subscriber's delay from the order's commit
 * (its `updatedAt`, the order service's clock — the same machine) to the message arriving.
 */
async function delays(context: BenchContext, token: string, clients: GraphqlWsClient[], orders: number, rate: number) {
  const arrivals: number[] = []
  const listener = (message: WsMessage) => {
    const update = (message.payload as { data?: { orderUpdated?: { updatedAt: string } } } | undefined)?.data?.orderUpdated
    if (message.type === 'next' && update !== undefined) arrivals.push(Date.now() - Date.parse(update.updatedAt))
  }
  const onMessage = (data: Buffer) => listener(JSON.parse(data.toString()) as WsMessage)
  for (const client of clients) {
    client.socket.on('message', onMessage)
    client.messages.length = 0
  }
  for (let index = 0; index < orders; index++) {
    const started = Date.now()
    const response = await fetch(`${context.stack.gateway}/api/v1/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'idempotency-key': `live-${started}-${index}` },
      body: ORDER
    })
    if (response.status !== 201) throw new Error(`an order answered ${response.status}: ${await response.text()}`)
    await sleep(Math.max(0, 1000 / rate - (Date.now() - started)))
  }
  const expected = orders * clients.length
  for (let waited = 0; arrivals.length < expected && waited < 30_000; waited += 100) await sleep(100)
  for (const client of clients) client.socket.off('message', onMessage)
  if (arrivals.length < expected) throw new Error(`${arrivals.length} of ${expected} updates reached the subscribers`)
  return [...arrivals].sort((a, b) => a - b)
}

async function open(url: string, token: string, count: number): Promise<GraphqlWsClient[]> {
  const clients: GraphqlWsClient[] = []
  // In batches: the gateway accepts a burst of upgrades like any other requests.
  for (let index = 0; index < count; index += 50) {
    const batch = Array.from({ length: Math.min(50, count - index) }, () => graphqlWs(url, { authorization: `Bearer ${token}` }))
    await Promise.all(batch.map((client) => client.acknowledged))
    for (const client of batch) client.subscribe('orders', SUBSCRIPTION)
    clients.push(...batch)
  }
  return clients
}

/**
 * 11. Live order status: `settings.live.subscriptions` WebSocket connections (one subscription
 * each, like as many open storefront tabs) held open on one gateway; the memory each adds, and
 * the delay from an order's commit to each subscriber's message, against one subscriber alone
 * (the reference: the event path itself) in the same run.
 */
export async function liveSubscriptions(context: BenchContext): Promise<ScenarioReport> {
  const { stack, pids, settings } = context
  const { subscriptions, orders, rate } = settings.live
  const gateway = pids.gateway ?? 0
  const url = `${stack.gateway.replace(/^http/, 'ws')}/graphql`
  const management = stack.urls.gatewayManagement as string
  const token = await context.customerToken()
  await plentyOfStock(context, ['notebook-a5'])
  const clients: GraphqlWsClient[] = []
  try {
    // The reference: one subscriber, the same orders.
    const alone = await open(url, token, 1)
    clients.push(...alone)
    await sleep(500)
    const single = await delays(context, token, alone, Math.min(orders, 20), rate)
    const before = await settled(context, gateway, management)
    const crowd = await open(url, token, subscriptions)
    clients.push(...crowd)
    const after = await settled(context, gateway, management)
    const many = await delays(context, token, crowd, orders, rate)
    const perSubscription = (bytes: number) => Math.round(bytes / subscriptions / 102.4) / 10
    const p99Ratio = percentile(many, 99) / Math.max(1, percentile(single, 99))
    return {
      title: `11. Live order status: ${subscriptions} WebSocket subscriptions on one gateway, ${orders} orders at ${rate}/s`,
      ratios: [
        {
          name: `p99 commit → client with ${subscriptions} subscribers ÷ with 1`,
          median: Math.round(p99Ratio * 100) / 100,
          min: Math.round(p99Ratio * 100) / 100,
          max: Math.round(p99Ratio * 100) / 100
        }
      ],
      numbers: {
        'commit → client, 1 subscriber, p50 / p99 ms': `${percentile(single, 50)} / ${percentile(single, 99)}`,
        [`commit → client, ${subscriptions} subscribers, p50 / p99 ms`]: `${percentile(many, 50)} / ${percentile(many, 99)}`,
        'messages delivered': many.length + single.length,
        'gateway memory per subscription (RSS) KiB': perSubscription(after.rss - before.rss),
        'gateway memory per subscription (V8 heap) KiB': perSubscription(after.heap - before.heap),
        [`gateway RSS with ${subscriptions} subscriptions MiB`]: Math.round(after.rss / 1048576)
      },
      notes: [
        'Each subscription is its own connection (one per open tab): the memory is that of a WebSocket, its connection state and its subscription.',
        'updatedAt is the order service’s clock and the bench reads its own: one machine, one clock.'
      ]
    }
  } finally {
    for (const client of clients) client.close()
  }
}
