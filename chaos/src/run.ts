// `npm run chaos [-- --orders N] [-- --seed S] [-- --shoppers N] [-- --short]`: the whole local
// system (its own Kafka and MongoDB-wire server, profile "chaos") under a steady shopping load
// while faults are injected on a seeded schedule; then it settles and is audited. Writes
// chaos/results/<date>.json, and for a full run latest.json and latest.md. Exit code 1 when
// anything was lost, duplicated, oversold or left stuck.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { repoRoot, runWhenMain, stackProfile } from '@polyshop/devstack'
import { DATA_CONTENT_TYPE, SPEC_VERSION } from '@polyshop/events'
import { ADMIN } from '@polyshop/testkit'
import { machine } from '../../bench/src/report.js'
import { buildServices } from '../../scripts/build.js'
import { type AuditReport, audit, chaosKafka, latencyByFault, openDatabases, settle } from './audit.js'
import { describe, type InjectedFault, inject, plan } from './faults.js'
import { Random } from './random.js'
import { emptyRecord, registerShoppers, runLoad, setStock } from './shoppers.js'
import { type Crash, startSystem } from './system.js'

interface Teardown {
  teardown(fn: () => unknown): void
}

export interface ChaosOptions {
  seed: number
  /** Orders to have acknowledged at least (the load also goes on until the last fault is over). */
  orders: number
  shoppers: number
  /** The short version npm test runs: one fault of each kind, briefly. */
  short: boolean
  log?: (line: string) => void
}

export interface ChaosResult {
  date: string
  seed: number
  short: boolean
  machine: ReturnType<typeof machine>
  durationMs: number
  /** Orders the clients saw acknowledged. */
  orders: number
  lost: number
  duplicated: number
  oversold: number
  stuck: number
  /** Units taken from stock that no live order holds. */
  leaked: number
  passed: boolean
  faults: InjectedFault[]
  /** Services that died without being killed (each restarted). */
  crashes: Crash[]
  latency: ReturnType<typeof latencyByFault>
  load: {
    requests: number
    refusedOutOfStock: number
    gaveUp: Array<{ action: string; key?: string; last: string }>
    cancelled: number
    paid: number
    shipped: number
  }
  audit: AuditReport
}

const POISON_COUNT = 3

export async function runChaos(t: Teardown, options: ChaosOptions): Promise<ChaosResult> {
  const log = options.log ?? ((line: string) => console.log(line))
  const began = Date.now()
  const random = new Random(options.seed)
  // The schedule comes from its own generator: the same seed gives the same faults whatever the load did.
  const planned = plan(new Random(options.seed ^ 0x5eed), options.short)
  log(`chaos run, seed ${options.seed}: ${planned.length} faults planned`)
  for (const { fault, afterMs } of planned) log(`  after ${(afterMs / 1000).toFixed(1)} s: ${describe(fault)}`)

  const system = await startSystem(t, stackProfile('chaos'), log)
  t.teardown(() => system.close())
  log(`the services' output: ${system.logDir}`)
  const gateway = system.stack.gateway
  const dbs = await openDatabases(system)
  t.teardown(() => dbs.close())
  const kafka = chaosKafka(system.kafkaBrokers)

  // Ten products; one in short supply, so it sells out during the run and a refusal is met.
  const catalog = (await (await fetch(`${gateway}/api/v1/products?limit=10`)).json()) as { items: Array<{ id: string }> }
  const products = catalog.items.map((item) => item.id)
  if (products.length < 10) throw new Error(`the catalog has ${products.length} products, 10 needed`)
  const hot = products[0] as string
  for (const id of products)
    await setStock(gateway, ADMIN, id, id === hot ? Math.max(10, Math.round(options.orders * 0.03)) : options.orders)
  const initialStock = new Map(
    (
      await dbs.product
        .collection<{ _id: string; stock: number }>('products')
        .find({ _id: { $in: products } })
        .toArray()
    ).map((p) => [p._id, p.stock])
  )

  // Poison on order.events: both of its consumers must dead-letter exactly these.
  const producer = kafka.producer()
  await producer.connect()
  const poisonKeys = Array.from({ length: POISON_COUNT }, (_, i) => `chaos-poison-${i}`)
  await producer.send({ topic: 'order.events', messages: poisonKeys.map((key, i) => poisoned(key, i)) })
  await producer.disconnect()

  const record = emptyRecord()
  const shoppers = await registerShoppers(
    { ...loadOptions(), keepGoing: () => false },
    record,
    `${options.seed}-${Date.now().toString(36)}`
  )
  log(`${shoppers.length} shoppers registered; load and faults start`)

  function loadOptions() {
    return {
      gateway,
      admin: ADMIN,
      shoppers: options.shoppers,
      orders: options.orders,
      products,
      hot,
      cancelShare: 0.15,
      random,
      log
    }
  }

  let faultsOver = false
  const progress = setInterval(() => log(`  ${record.orders.length} orders acknowledged, ${record.attempts.length} requests`), 15_000)
  const [faults] = await Promise.all([
    inject(system, planned, {
      ordersInFlight: () => record.inFlight,
      mailsReceived: () => system.stack.mails.length,
      log
    }).finally(() => {
      faultsOver = true
    }),
    runLoad({ ...loadOptions(), keepGoing: () => !faultsOver }, record, shoppers)
  ])
  clearInterval(progress)
  log(`load over: ${record.orders.length} orders acknowledged; settling`)

  const settled = await settle(dbs, kafka, options.short ? 240_000 : 600_000, log)
  const report = await audit({ system, dbs, kafka, load: record, initialStock, poisonKeys, settled })
  const result: ChaosResult = {
    date: new Date(began).toISOString(),
    seed: options.seed,
    short: options.short,
    machine: machine(),
    durationMs: Date.now() - began,
    orders: record.orders.length,
    lost: report.lost.total,
    duplicated: report.duplicated.total,
    oversold: report.stock.oversold,
    stuck: report.stuck.total,
    leaked: report.stock.leaked,
    passed: report.lost.total + report.duplicated.total + report.stock.oversold + report.stuck.total + report.stock.leaked === 0,
    faults,
    crashes: system.crashes,
    latency: latencyByFault(record, faults),
    load: {
      requests: record.attempts.length,
      refusedOutOfStock: record.refused,
      gaveUp: record.gaveUp,
      cancelled: record.orders.filter((o) => o.cancelled === true).length,
      paid: record.orders.filter((o) => o.advancedTo !== undefined).length,
      shipped: record.orders.filter((o) => o.advancedTo === 'SHIPPED').length
    },
    audit: report
  }
  return result
}

/** Three ways a message on order.events can be poison: headers missing, a type nobody knows, a value that is not the event. */
function poisoned(key: string, variant: number) {
  const headers = {
    ce_id: key,
    ce_specversion: SPEC_VERSION,
    ce_type: variant === 1 ? 'shop.order.refunded.v9' : 'shop.order.created.v1',
    ce_source: '/polyshop/chaos',
    ce_time: new Date().toISOString(),
    'content-type': DATA_CONTENT_TYPE
  }
  if (variant === 0) return { key, value: '{not json', headers: { ce_id: key } }
  return { key, value: variant === 1 ? '{}' : 'this is not the event', headers }
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`

export function markdown(result: ChaosResult): string {
  const a = result.audit
  const time = (at: number) => seconds(at - Date.parse(result.date))
  const lines = [
    `Chaos run of ${result.date} (seed ${result.seed}${result.short ? ', short' : ''}) on ${result.machine.cpus} × ${result.machine.model}, Node ${result.machine.node}: ${seconds(result.durationMs)}, **${result.passed ? 'passed' : 'FAILED'}**.`,
    '',
    '| orders acknowledged | lost | duplicated | oversold | stuck | stock leaked |',
    '|---|---|---|---|---|---|',
    `| ${result.orders} | ${result.lost} | ${result.duplicated} | ${result.oversold} | ${result.stuck} | ${result.leaked} units |`,
    '',
    `Lost: ${a.lost.orders} orders, ${a.lost.events} events, ${a.lost.changes} acknowledged changes, ${a.lost.notifications} notifications, ${a.lost.learning} orders unlearnt. ` +
      `Duplicated: ${a.duplicated.orders} orders per key, ${a.duplicated.notifications} notifications, ${a.duplicated.model} model counts ` +
      `(besides: ${a.duplicated.resent} mails/SMS re-sent after a crash with the same Message-ID or idempotency key, ${a.duplicated.eventCopies} event copies on Kafka, dropped by consumers). ` +
      `Stock: ${a.stock.oversold} units oversold, ${a.stock.leaked} leaked. Stuck: outbox ${a.stuck.outboxBacklog}, consumer lag ${a.stuck.notificationLag} (notification) and ${a.stuck.recommendationLag} (recommendation), ` +
      `interrupted orders ${a.stuck.processingRequests}, half-done reservations ${a.stuck.reservingReservations}, releases pending ${a.stuck.releasePending}, ` +
      `notifications sending ${a.stuck.sendingNotifications}, unpaid orders never expired ${a.stuck.unpaidOrders}, unexplained dead letters ${a.stuck.deadLettersUnexplained} (the ${POISON_COUNT} poisoned messages not dead-lettered: ${a.stuck.poisonNotDeadLettered}). ` +
      `Settled ${seconds(a.settledAfterMs)} after the load.`,
    '',
    `Load: ${result.load.requests} requests; ${result.load.cancelled} orders cancelled by their shopper, ${result.load.paid} paid, ${result.load.shipped} shipped, ${result.load.refusedOutOfStock} refused out of stock, ${result.load.gaveUp.length} actions given up after two minutes of retries.`,
    '',
    '| requests | count | p50 | p99 | errors (5xx, timeouts, no answer) |',
    '|---|---|---|---|---|',
    ...(['duringFaults', 'outsideFaults'] as const).map((k) => {
      const l = result.latency[k]
      return `| ${k === 'duringFaults' ? 'during a fault' : 'outside faults'} | ${l.requests} | ${l.p50Ms} ms | ${l.p99Ms} ms | ${(l.errorRate * 100).toFixed(2)} % |`
    }),
    '',
    '| at | fault | back after |',
    '|---|---|---|',
    ...result.faults.map(
      (f) =>
        `| ${time(f.startedAt)} | ${f.kind === 'kill' ? `kill -9 ${f.target}` : f.target} (planned ${seconds(f.plannedMs)})${f.note === undefined ? '' : `; ${f.note}`} | ${seconds(f.endedAt - f.startedAt)} |`
    )
  ]
  if (result.crashes.length > 0) {
    lines.push(
      '',
      `Services that exited by themselves (restarted): ${result.crashes.map((c) => `${c.service} at ${time(c.at)} (${c.exit})`).join(', ')}.`
    )
  }
  if (a.examples.length > 0) lines.push('', 'Findings:', ...a.examples.map((e) => `- ${e}`))
  return `${lines.join('\n')}\n`
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string', default: '1' },
      orders: { type: 'string' },
      shoppers: { type: 'string' },
      short: { type: 'boolean', default: false }
    }
  })
  const short = values.short === true
  const options: ChaosOptions = {
    seed: Number(values.seed),
    orders: Number(values.orders ?? (short ? 300 : 5000)),
    shoppers: Number(values.shoppers ?? (short ? 8 : 16)),
    short
  }
  const teardowns: Array<() => unknown> = []
  const t = { teardown: (fn: () => unknown) => teardowns.push(fn) }
  try {
    await buildServices()
    const result = await runChaos(t, options)
    const dir = join(repoRoot, 'chaos', 'results')
    mkdirSync(dir, { recursive: true })
    const json = `${JSON.stringify(result, null, 2)}\n`
    writeFileSync(join(dir, `${result.date.replaceAll(':', '-')}.json`), json)
    if (!short && values.orders === undefined) {
      writeFileSync(join(dir, 'latest.json'), json)
      writeFileSync(join(dir, 'latest.md'), markdown(result))
    }
    console.log(`\n${markdown(result)}`)
    return result.passed ? 0 : 1
  } finally {
    for (const fn of teardowns.reverse()) await fn()
  }
}

runWhenMain(import.meta.url, main)
