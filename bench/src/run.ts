// `npm run bench [-- <scenario>...] [-- --smoke]`: starts the local Kafka and MongoDB-wire
// server (profile "bench", its own ports) and all six services from their build, runs the
// scenarios, writes bench/results/<date>.json and latest.{json,md}, and stops what it started.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { repoRoot, runWhenMain, stackProfile, startStack, stopStack } from '@polyshop/devstack'
import { ADMIN, freePort, startWholeStack } from '@polyshop/testkit'
import { buildServices } from '../../scripts/build.js'
import { type BenchContext, FULL, type ScenarioReport, type Settings, SMOKE } from './context.js'
import { type BenchReport, machine, markdown } from './report.js'
import { databaseScaling } from './scenarios/database.js'
import { frameworkCost } from './scenarios/framework-cost.js'
import { authCost, gatewayHop } from './scenarios/gateway-hop.js'
import { graphqlScenario } from './scenarios/graphql.js'
import { grpcClients } from './scenarios/grpc.js'
import { liveSubscriptions } from './scenarios/live.js'
import { loginStorm } from './scenarios/login-storm.js'
import { orderToNotification, placeOrders } from './scenarios/orders.js'

export const SCENARIO_NAMES = [
  'framework',
  'gateway',
  'auth',
  'graphql',
  'orders',
  'events',
  'grpc',
  'memory',
  'login-storm',
  'database',
  'live'
] as const

interface Teardown {
  teardown(fn: () => unknown): void
}

export interface BenchOptions {
  smoke: boolean
  only?: string[]
  log?: (line: string) => void
}

/** Runs the scenarios against the Kafka and MongoDB-wire server in KAFKA_BROKERS / MONGODB_URL. */
export async function runBench(t: Teardown, options: BenchOptions): Promise<BenchReport> {
  const log = options.log ?? ((line: string) => console.log(line))
  const settings: Settings = options.smoke ? SMOKE : FULL
  const wanted = (name: string) => options.only === undefined || options.only.length === 0 || options.only.includes(name)
  log('starting the six services')
  // BENCH_CPU_PROF=<dir>: every service writes a V8 CPU profile there when the run ends (open
  // the .cpuprofile files in Chrome DevTools or speedscope for flame graphs).
  const profile = process.env.BENCH_CPU_PROF
  const services = ['gateway', 'user', 'product', 'order', 'recommendation', 'notification']
  const profiling = (name: string) =>
    profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profile}`, `--cpu-prof-name=${name}.cpuprofile`]
  // The gateway's inspector: the live scenario collects its garbage before weighing its memory.
  const inspectorPort = await freePort()
  const nodeArgs = Object.fromEntries(
    services.map((name) => [name, [...profiling(name), ...(name === 'gateway' ? [`--inspect=127.0.0.1:${inspectorPort}`] : [])]])
  )
  const stack = await startWholeStack(t, {
    // Load from one address would otherwise hit the per-client limits at once.
    env: {
      gateway: {
        RATE_LIMIT_PER_MINUTE: '1000000',
        ORDER_RATE_LIMIT_PER_MINUTE: '1000000',
        AUTH_RATE_LIMIT_PER_MINUTE: '100000',
        // One bench customer holds every live subscription.
        LIVE_SUBSCRIPTIONS_PER_USER: '10000'
      },
      // The load places many unpaid orders per signed-in client.
      order: { MAX_UNPAID_ORDERS: '1000', MAX_HELD_UNITS: '100000' }
    },
    nodeArgs
  })
  const pids = Object.fromEntries(Object.entries(stack.processes).map(([name, p]) => [name, p.child.pid ?? 0]))
  let users = 0
  const signIn = async (path: string, body: object) => {
    const response = await fetch(`${stack.gateway}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body)
    })
    if (!response.ok) throw new Error(`${path} answered ${response.status}: ${await response.text()}`)
    return ((await response.json()) as { accessToken: string }).accessToken
  }
  const context: BenchContext = {
    stack,
    pids,
    gatewayInspector: `http://127.0.0.1:${inspectorPort}`,
    settings,
    log,
    customerToken: () =>
      signIn('/api/v1/auth/register', {
        email: `bench-${process.pid}-${++users}@example.com`,
        password: 'a bench password',
        name: 'Bench'
      }),
    adminToken: () => signIn('/api/v1/auth/login', { email: ADMIN.email, password: ADMIN.password })
  }
  // Warm-up: pools filled, JIT warm, the catalog cached in the OS.
  for (let i = 0; i < 300; i++) await fetch(`${stack.gateway}/api/v1/products/beanie`).then((r) => r.arrayBuffer())

  const report: BenchReport = { date: new Date().toISOString(), smoke: options.smoke, machine: machine(), scenarios: {}, failures: {} }
  /** Runs a scenario when it, or the other name it answers to, was asked for. */
  const run = async (name: string, scenario: () => Promise<ScenarioReport | Record<string, ScenarioReport>>, alsoNamed?: string) => {
    if (!wanted(name) && (alsoNamed === undefined || !wanted(alsoNamed))) return
    log(`▶ ${name}`)
    try {
      const result = await scenario()
      if ('title' in result) report.scenarios[name] = result as ScenarioReport
      else Object.assign(report.scenarios, result)
    } catch (error) {
      report.failures[name] = error instanceof Error ? error.message : String(error)
      log(`  ${name} failed: ${report.failures[name]}`)
    }
  }
  await run('framework', () => frameworkCost(context))
  // Memory is sampled during the gateway scenario's load: `-- memory` runs that scenario.
  await run(
    'gateway',
    async () => {
      const { hop, memory } = await gatewayHop(context)
      return { gateway: hop, memory }
    },
    'memory'
  )
  await run('auth', () => authCost(context))
  await run('graphql', () => graphqlScenario(t, context))
  await run('orders', () => placeOrders(context))
  await run('events', () => orderToNotification(context))
  await run('grpc', () => grpcClients(context))
  await run('login-storm', () => loginStorm(t, context))
  await run('database', () => databaseScaling(context))
  await run('live', () => liveSubscriptions(context))
  return report
}

async function main(): Promise<number> {
  const args = process.argv.slice(2)
  const smoke = args.includes('--smoke')
  const only = args.filter((arg) => !arg.startsWith('--'))
  const unknown = only.filter((name) => !(SCENARIO_NAMES as readonly string[]).includes(name))
  if (unknown.length > 0) {
    console.error(`unknown scenario(s) ${unknown.join(', ')}; choose from ${SCENARIO_NAMES.join(', ')}`)
    return 2
  }
  const teardowns: Array<() => unknown> = []
  const t = { teardown: (fn: () => unknown) => teardowns.push(fn) }
  const profile = stackProfile('bench')
  const external = Boolean(process.env.KAFKA_BROKERS) && Boolean(process.env.MONGODB_URL)
  let started = { kafka: false, mongo: false }
  try {
    await buildServices()
    if (!external) {
      // Every run starts from empty servers: topics and consumer offsets left by an earlier run
      // would hand this run's services a backlog to work through while it measures.
      await stopStack(profile)
      rmSync(profile.dir, { recursive: true, force: true })
      const stack = await startStack(profile, (line) => console.log(`  ${line}`))
      started = stack.started
      process.env.KAFKA_BROKERS = stack.kafkaBrokers
      process.env.MONGODB_URL = stack.mongodbUrl
    }
    const report = await runBench(t, { smoke, only })
    const dir = join(repoRoot, 'bench', 'results')
    mkdirSync(dir, { recursive: true })
    const json = `${JSON.stringify(report, null, 2)}\n`
    writeFileSync(join(dir, `${report.date.replaceAll(':', '-')}.json`), json)
    if (!smoke && only.length === 0) {
      writeFileSync(join(dir, 'latest.json'), json)
      writeFileSync(join(dir, 'latest.md'), markdown(report))
    }
    console.log(`\n${markdown(report)}`)
    return Object.keys(report.failures).length === 0 ? 0 : 1
  } finally {
    for (const fn of teardowns.reverse()) await fn()
    if (!external) await stopStack(profile, started)
  }
}

runWhenMain(import.meta.url, main)
