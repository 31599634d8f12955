// `npm start`: the whole system on this machine, no cluster needed. Builds the services, starts
// Apache Kafka and a MongoDB-wire server (see packages/devstack), then every service that has a `start` script,
// wired to each other by the ports of DESIGN.md; Ctrl-C stops all of it.
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { repoRoot, SERVICE_NODE_OPTIONS, type StackEndpoints, stackProfile, startStack, stopStack } from '@polyshop/devstack'
import { buildServices } from './build.js'

/** The order service's credentials for its service token (it alone may reserve stock): new on every run. */
const ORDER_CLIENT_SECRET = randomBytes(24).toString('base64url')

/** Local ports of DESIGN.md, in start order (dependencies first). */
const SERVICES = [
  // The gateway forwards from loopback and says who the client is: per-IP login throttles count clients, not the gateway.
  { name: 'user', port: 3001, env: { TRUST_PROXY: '127.0.0.1', SERVICE_CLIENTS: `order:${ORDER_CLIENT_SECRET}` } },
  { name: 'product', port: 3002, env: { GRPC_PORT: '50052', SEED_DEMO_CATALOG: 'true' } },
  { name: 'order', port: 3003, env: { GRPC_PORT: '50051', SERVICE_CLIENT_SECRET: ORDER_CLIENT_SECRET } },
  { name: 'recommendation', port: 3004, env: {} },
  { name: 'notification', port: 3005, env: {} },
  { name: 'gateway', port: 8080, env: {} }
] as const

/** Local defaults; any of them set in this shell wins. */
const LOCAL_DEFAULTS = {
  JWT_ISSUER: 'polyshop-user',
  JWT_AUDIENCE: 'polyshop',
  ADMIN_EMAIL: 'admin@polyshop.local',
  ADMIN_PASSWORD: 'polyshop-admin-demo',
  USER_SERVICE_URL: 'http://127.0.0.1:3001',
  PRODUCT_SERVICE_URL: 'http://127.0.0.1:3002',
  PRODUCT_GRPC_URL: 'http://127.0.0.1:50052',
  ORDER_GRPC_URL: 'http://127.0.0.1:50051',
  RECOMMENDATION_URL: 'http://127.0.0.1:3004/graphql'
}

const STOP_GRACE_MS = 30_000

interface RunningService {
  name: string
  child: ChildProcess
  exited: Promise<void>
}

function hasStartScript(name: string): boolean {
  const manifest = join(repoRoot, 'services', name, 'package.json')
  if (!existsSync(manifest)) return false
  return typeof JSON.parse(readFileSync(manifest, 'utf8')).scripts?.start === 'string'
}

/** Each service gets a database of its own on the same server. */
function databaseUrl(serverUrl: string, service: string): string {
  const url = new URL(serverUrl)
  url.pathname = `/polyshop_${service}`
  return url.toString()
}

function prefixLines(name: string, stream: NodeJS.ReadableStream | null, out: NodeJS.WriteStream): void {
  let buffered = ''
  stream?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString()
    const lines = buffered.split('\n')
    buffered = lines.pop() ?? ''
    for (const line of lines) out.write(`[${name}] ${line}\n`)
  })
}

async function waitForHealth(port: number, service: RunningService, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  let gone = false
  void service.exited.then(() => {
    gone = true
  })
  while (Date.now() < deadline && !gone) {
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1000) }).then(
      (response) => response.ok,
      () => false
    )
    if (ok) return true
    await sleep(250)
  }
  return false
}

const profile = stackProfile('local')
const services: RunningService[] = []
let stack: StackEndpoints | undefined
let stopping: Promise<void> | undefined

/** Signals the service's whole process group: npm, and the node process npm started. */
function signalService(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return
  try {
    process.kill(-child.pid, signal)
  } catch {
    // already gone
  }
}

function groupAlive(child: ChildProcess): boolean {
  if (child.pid === undefined) return false
  try {
    process.kill(-child.pid, 0)
    return true
  } catch {
    return false
  }
}

/** Services first (each drains on SIGTERM), then the servers this command started. */
async function stopEverything(): Promise<void> {
  await Promise.all(
    services.map(async ({ child, exited }) => {
      if (child.exitCode !== null || child.signalCode !== null) return
      signalService(child, 'SIGTERM')
      const timer = setTimeout(() => signalService(child, 'SIGKILL'), STOP_GRACE_MS)
      await exited
      // npm can exit before the service it started has drained: the servers stop only once the
      // whole process group is gone, or a service would lose Kafka in the middle of its drain.
      while (groupAlive(child)) await new Promise((resolve) => setTimeout(resolve, 50))
      clearTimeout(timer)
    })
  )
  if (stack !== undefined) await stopStack(profile, stack.started)
}

let firstSignalAt = 0

function onSignal(signal: NodeJS.Signals): void {
  // npm and tsx each pass a terminal's Ctrl-C on, so one keypress can arrive twice at once.
  if (stopping !== undefined && Date.now() - firstSignalAt < 1000) return
  if (stopping !== undefined) {
    console.log(`\n${signal} again: killing the services now`)
    for (const { child } of services) signalService(child, 'SIGKILL')
    return
  }
  firstSignalAt = Date.now()
  console.log(`\n${signal}: stopping the services, then the servers this command started`)
  stopping = stopEverything().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error)
      process.exit(1)
    }
  )
}

async function main(): Promise<void> {
  // Handlers first: a Ctrl-C during a long first start must still stop what was started.
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  console.log('polyshop: starting the local system')
  const built = Date.now()
  await buildServices()
  console.log(`  built the services (services/*/dist) in ${Date.now() - built} ms`)
  stack = await startStack(profile, (line) => console.log(`  ${line}`))
  if (stopping !== undefined) return
  console.log(`  Kafka: ${stack.kafkaBrokers}   MongoDB-wire: ${stack.mongodbUrl}   (data and logs: ${profile.dir})`)

  const defaults = Object.fromEntries(Object.entries(LOCAL_DEFAULTS).map(([name, value]) => [name, process.env[name] || value]))
  const runnable = SERVICES.filter((service) => hasStartScript(service.name))
  const missing = readdirSync(join(repoRoot, 'services')).filter((name) => !runnable.some((s) => s.name === name))
  for (const service of runnable) {
    if (stopping !== undefined) return
    const child = spawn('npm', ['run', '--silent', 'start', '--workspace', `services/${service.name}`], {
      cwd: repoRoot,
      env: {
        ...process.env,
        ...defaults,
        // The heap settings of the image (npm passes them on to the service's node), then the
        // developer's own (--inspect …), which win where they overlap.
        NODE_OPTIONS: `${SERVICE_NODE_OPTIONS} ${process.env.NODE_OPTIONS ?? ''}`.trim(),
        ...service.env,
        PORT: String(service.port),
        KAFKA_BROKERS: stack.kafkaBrokers,
        MONGODB_URL: databaseUrl(stack.mongodbUrl, service.name)
      },
      // Its own process group: the terminal's Ctrl-C reaches only this script, which then
      // sends each service one SIGTERM, so none mistakes a repeated signal for "hurry".
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe']
    })
    const running: RunningService = { name: service.name, child, exited: new Promise((resolve) => child.once('exit', () => resolve())) }
    services.push(running)
    child.once('exit', (code, signal) => {
      if (stopping === undefined) console.error(`  ${service.name} exited unexpectedly (${signal ?? `code ${code}`}); see its lines above`)
    })
    prefixLines(service.name, child.stdout, process.stdout)
    prefixLines(service.name, child.stderr, process.stderr)
    const healthy = await waitForHealth(service.port, running, 60_000)
    console.log(
      healthy ? `  ${service.name} is up on port ${service.port}` : `  ${service.name} did not become healthy on port ${service.port}`
    )
  }
  if (missing.length > 0) console.log(`  not started, not implemented yet: ${missing.join(', ')}`)
  if (runnable.some((service) => service.name === 'user')) {
    console.log(`  admin account: ${defaults.ADMIN_EMAIL} / ${defaults.ADMIN_PASSWORD} (set ADMIN_EMAIL and ADMIN_PASSWORD to choose)`)
  }
  console.log(
    [
      '',
      'polyshop is running:',
      '  storefront  http://localhost:8080/',
      '  REST API    http://localhost:8080/api/v1/products',
      '  GraphQL     http://localhost:8080/graphql  (POST)',
      '  API docs    http://localhost:8080/docs'
    ].join('\n')
  )
  console.log('Press Ctrl-C to stop everything.')
  // Keep running until a signal arrives.
  setInterval(() => {}, 1 << 30)
}

main().catch(async (error: unknown) => {
  console.error(`polyshop: ${error instanceof Error ? error.message : String(error)}`)
  await stopEverything().catch(() => {})
  process.exit(1)
})
