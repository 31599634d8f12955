// compose.yaml, run as a Docker user runs it (`docker compose up`), here with podman-compose: the
// six images of `npm run images`, Kafka, MongoDB and Mailpit on the compose network, the
// gateway, the order service's gRPC port and Mailpit published on free host ports. Docker Hub is out of reach here, so the three
// third-party images are stand-ins built from the same programs (packages/devstack's
// stand-in-images.ts), and compose.stand-ins.yaml replaces the one thing FerretDB lacks (the
// mongosh health check). The journey must pass through the published gateway, with the mails
// read back from Mailpit's API.
import { execFile, execFileSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { COMPOSE_TEST_PROJECT_PREFIX, containerEnv, ensureStandInImages, repoRoot } from '@polyshop/devstack'
import { eventually, freePort, type Mail } from '@polyshop/testkit'
import t from 'tap'
import { journeyTests } from '../e2e/journey.js'

const run = promisify(execFile)
const project = `${COMPOSE_TEST_PROJECT_PREFIX}${randomUUID().slice(0, 8)}`
const images = ensureStandInImages()
const gatewayPort = await freePort()
const mailpitPort = await freePort()
const orderGrpcPort = await freePort()
const env = {
  ...containerEnv(),
  POLYSHOP_KAFKA_IMAGE: images.kafka,
  POLYSHOP_MONGODB_IMAGE: images.mongodb,
  POLYSHOP_MAILPIT_IMAGE: images.mailpit,
  POLYSHOP_GATEWAY_PORT: String(gatewayPort),
  POLYSHOP_MAILPIT_PORT: String(mailpitPort),
  POLYSHOP_ORDER_GRPC_PORT: String(orderGrpcPort),
  POLYSHOP_LOG_LEVEL: 'warn'
}
const files = ['-f', join(repoRoot, 'compose.yaml'), '-f', join(repoRoot, 'test/containers/compose.stand-ins.yaml')]
const compose = (args: string[]) =>
  run('podman-compose', ['--project-name', project, ...files, ...args], { cwd: repoRoot, env, maxBuffer: 64 * 1024 * 1024 })

/** Containers, network and volumes: nothing of this project is left behind. Synchronous, so it also runs on 'exit'. */
function removeProject(): void {
  const podmanSync = (args: string[]) => execFileSync('podman', args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
  try {
    const left = podmanSync(['ps', '-a', '--quiet', '--filter', `label=io.podman.compose.project=${project}`]).trim()
    if (left !== '') podmanSync(['rm', '--force', '--time=10', ...left.split('\n')])
    const volumes = podmanSync(['volume', 'ls', '--quiet', '--filter', `label=io.podman.compose.project=${project}`]).trim()
    if (volumes !== '') podmanSync(['volume', 'rm', '--force', ...volumes.split('\n')])
    podmanSync(['network', 'rm', '--force', `${project}_default`])
  } catch {
    // Already gone.
  }
}
t.teardown(async () => {
  // A failure is explained by what the services logged: printed before they are gone.
  if (!t.passing()) {
    const { stdout } = await compose(['logs', '--tail', '60']).catch(() => ({ stdout: '' }))
    console.error(`the services' last log lines:\n${stdout}`)
  }
  // A clean stop first (each service drains on SIGTERM), then whatever is left.
  await compose(['down', '--volumes', '--timeout', '10']).catch(() => undefined)
  removeProject()
})
process.once('exit', removeProject)
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    removeProject()
    process.exit(128 + (signal === 'SIGINT' ? 2 : 15))
  })
}

await compose(['up', '--detach', '--no-build']).catch((error: { stderr?: string; message: string }) => {
  throw new Error(`podman-compose up failed: ${error.message}\n${error.stderr ?? ''}`)
})
const gateway = `http://127.0.0.1:${gatewayPort}`
await eventually(
  async () => ((await fetch(`${gateway}/readyz`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined))?.ok ? true : undefined),
  180_000,
  'every service ready behind the published gateway'
).catch(async (error: unknown) => {
  const { stdout } = await compose(['logs', '--tail', '30']).catch(() => ({ stdout: '' }))
  throw new Error(`${error instanceof Error ? error.message : error}\n${stdout}`)
})

/** The mail Mailpit holds, read through its HTTP API (subject and decoded bodies), in the test's own shape. */
async function mailpitMails(): Promise<Mail[]> {
  const base = `http://127.0.0.1:${mailpitPort}/api/v1`
  const list = (await (await fetch(`${base}/messages?limit=500`)).json()) as { messages: Array<{ ID: string }> }
  return Promise.all(
    list.messages.map(async ({ ID }) => {
      const message = (await (await fetch(`${base}/message/${ID}`)).json()) as {
        To: Array<{ Address: string }>
        Subject: string
        Text: string
        HTML: string
      }
      return { to: message.To.map((to) => to.Address), raw: `Subject: ${message.Subject}\n\n${message.Text}\n${message.HTML}` }
    })
  )
}

t.test('compose publishes the gateway (storefront and API) and Mailpit', async (t) => {
  const page = await fetch(`${gateway}/`)
  t.equal(page.status, 200)
  t.match(await page.text(), /<div id="app"|<html/i, 'the storefront')
  const mailpit = await fetch(`http://127.0.0.1:${mailpitPort}/api/v1/messages`)
  t.equal(mailpit.status, 200)
})

journeyTests(t, { gateway, orderGrpc: `http://127.0.0.1:${orderGrpcPort}`, mails: mailpitMails })
