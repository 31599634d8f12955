// `npm start`: the whole system on this machine, no cluster needed. Starts Apache Kafka and a
// MongoDB-wire server (see packages/devstack), then every service that has a `start` script,
// wired to each other by the ports of DESIGN.md; Ctrl-C stops all of it.
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { repoRoot, stackProfile, startStack, stopStack } from '@polyshop/devstack'

/** Local ports of DESIGN.md, in start order (dependencies first). */
const SERVICES = [
  { name: 'user', env: { PORT: '3001' } },
  { name: 'product', env: { PORT: '3002', GRPC_PORT: '50052' } },
  { name: 'order', env: { PORT: '3003', GRPC_PORT: '50051' } },
  { name: 'recommendation', env: { PORT: '3004' } },
  { name: 'notification', env: { PORT: '3005' } },
  { name: 'gateway', env: { PORT: '8080' } }
] as const

const WIRING = {
  USER_SERVICE_URL: 'http://127.0.0.1:3001',
  PRODUCT_SERVICE_URL: 'http://127.0.0.1:3002',
  PRODUCT_GRPC_URL: 'http://127.0.0.1:50052',
  ORDER_GRPC_URL: 'http://127.0.0.1:50051',
  RECOMMENDATION_URL: 'http://127.0.0.1:3004/graphql'
}

function hasStartScript(name: string): boolean {
  const manifest = join(repoRoot, 'services', name, 'package.json')
  if (!existsSync(manifest)) return false
  return typeof JSON.parse(readFileSync(manifest, 'utf8')).scripts?.start === 'string'
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

async function main(): Promise<void> {
  const profile = stackProfile('local')
  console.log('polyshop: starting the local system')
  const stack = await startStack(profile, (line) => console.log(`  ${line}`))
  console.log(`  Kafka: ${stack.kafkaBrokers}   MongoDB-wire: ${stack.mongodbUrl}   (logs: ${profile.dir})`)

  const children: ChildProcess[] = []
  const runnable = SERVICES.filter((service) => hasStartScript(service.name))
  const missing = readdirSync(join(repoRoot, 'services')).filter((name) => !runnable.some((s) => s.name === name))
  for (const service of runnable) {
    const child = spawn('npm', ['run', '--silent', 'start', '--workspace', `services/${service.name}`], {
      cwd: repoRoot,
      env: {
        ...process.env,
        ...WIRING,
        ...service.env,
        KAFKA_BROKERS: stack.kafkaBrokers,
        MONGODB_URL: `${stack.mongodbUrl.replace(/\/$/, '')}/polyshop_${service.name}`
      },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    prefixLines(service.name, child.stdout, process.stdout)
    prefixLines(service.name, child.stderr, process.stderr)
    children.push(child)
    console.log(`  started ${service.name} (port ${service.env.PORT})`)
  }
  if (missing.length > 0) {
    console.log(`  not started, not implemented yet: ${missing.join(', ')}`)
  }
  if (runnable.some((service) => service.name === 'gateway')) {
    console.log('\npolyshop storefront: http://localhost:8080/')
  } else {
    console.log('\nNo gateway yet, so no storefront: only the infrastructure above is running.')
  }
  console.log('Press Ctrl-C to stop everything.')

  let stopping = false
  const stopAll = async (signal: NodeJS.Signals) => {
    if (stopping) return
    stopping = true
    console.log(`\n${signal}: stopping services, then Kafka and the MongoDB-wire server`)
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null) return resolve()
            child.once('exit', () => resolve())
            child.kill('SIGTERM')
          })
      )
    )
    await stopStack(profile)
    process.exit(0)
  }
  process.on('SIGINT', stopAll)
  process.on('SIGTERM', stopAll)
  // Keep running until a signal arrives.
  setInterval(() => {}, 1 << 30)
}

main().catch((error: unknown) => {
  console.error(`polyshop: ${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
})
