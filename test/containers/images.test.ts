// The six images `npm run images` built from the Dockerfile (npm test builds them first), run as
// containers the way the chart runs them: non-root, read-only root filesystem, no capabilities,
// no privilege escalation, the chart's environment and memory limits. The whole journey must pass
// against them exactly as against host processes, and each must drain and exit 0 on SIGTERM.
// Kafka is a broker of this test's own: the notification and recommendation consumer groups
// must not share partitions with the host-process stacks of other test files.
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { containerEnv, ensureTopics, imageReference, imageServices, POLYSHOP_TOPICS, repoRoot, servicePorts } from '@polyshop/devstack'
import { ADMIN, privateBroker, smsWebhook, smtpInbox } from '@polyshop/testkit'
import t from 'tap'
import { journeyTests } from '../e2e/journey.js'
import { podman, startContainerStack } from './container-stack.js'

const run = promisify(execFile)

const missing: string[] = []
for (const service of imageServices()) {
  if (
    await podman(['image', 'exists', imageReference(service)]).then(
      () => false,
      () => true
    )
  )
    missing.push(imageReference(service))
}
if (missing.length > 0) throw new Error(`${missing.join(', ')} not built: run \`npm run images\` (npm test does it first)`)

const broker = await privateBroker(t)
await ensureTopics(broker.brokers, POLYSHOP_TOPICS)
const inbox = await smtpInbox(t)
const sms = await smsWebhook(t)
const mongo = new URL(process.env.MONGODB_URL ?? 'mongodb://127.0.0.1:27017')
const stack = await startContainerStack(t, {
  kafkaBrokers: broker.brokers,
  // The chart puts polyshop_<service> where {db} is; a suffix keeps this run's databases its own.
  mongodbUrl: `mongodb://${mongo.host}/{db}_c${Date.now().toString(36)}`,
  smtpUrl: inbox.url,
  smsWebhookUrl: sms.url,
  admin: ADMIN
})
t.comment(
  `start to ready in a container: ${Object.values(stack.services)
    .map((s) => `${s.name} ${(s.startToReadyMs / 1000).toFixed(1)} s`)
    .join(', ')}`
)

journeyTests(t, { gateway: stack.gateway, orderGrpc: stack.orderGrpc, mails: async () => inbox.mails })

t.test('the admin account the chart configures exists: it signs in and sees every order', async (t) => {
  const login = await fetch(`${stack.gateway}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(ADMIN)
  })
  t.equal(login.status, 200)
  const { accessToken, user } = (await login.json()) as { accessToken: string; user: { roles: string[] } }
  t.ok(user.roles.includes('admin'))
  const all = await fetch(`${stack.gateway}/api/v1/orders?allUsers=true`, { headers: { authorization: `Bearer ${accessToken}` } })
  t.equal(all.status, 200)
})

t.test('each image: the node user, production settings, its ports, labels, and nothing it cannot use', async (t) => {
  const ports = servicePorts()
  for (const service of imageServices()) {
    const image = imageReference(service)
    const config = JSON.parse(await podman(['image', 'inspect', '--format', '{{json .Config}}', image])) as {
      User: string
      Env: string[]
      ExposedPorts?: Record<string, unknown>
      Labels: Record<string, string>
      Healthcheck?: unknown
      Cmd: string[]
    }
    t.equal(config.User, 'node', `${service} runs as node`)
    t.ok(config.Env.includes('NODE_ENV=production'), `${service}: NODE_ENV=production`)
    t.same(
      Object.keys(config.ExposedPorts ?? {}).sort(),
      (ports[service] ?? []).map((p) => `${p}/tcp`).sort(),
      `${service} exposes its ports`
    )
    t.match(config.Labels['org.opencontainers.image.revision'], /^[0-9a-f]{40}$|^unknown$/, `${service} names its revision`)
    t.ok(config.Labels['org.opencontainers.image.source'], `${service} names its source`)
    t.ok(config.Labels['org.opencontainers.image.version'], `${service} names its version`)
    t.notOk(config.Healthcheck, `${service} has no HEALTHCHECK (Kubernetes probes)`)
    t.same(config.Cmd, ['node', '--enable-source-maps', 'dist/server.js'])
    // What a production image must not carry: dangling links, workspace links, dev tools, npm's cache.
    const findings = await podman([
      'run',
      '--rm',
      '--pull=never',
      '--network=none',
      '--entrypoint=sh',
      image,
      '-c',
      [
        'find /app -xtype l',
        'ls -d /app/node_modules/@polyshop /app/node_modules/.bin /app/node_modules/typescript /app/node_modules/tap /app/node_modules/esbuild /app/node_modules/@types/node /app/node_modules/vite /app/node_modules/tsx /app/node_modules/smtp-server /app/node_modules/playwright-core 2>/dev/null',
        'ls /home/node/.npm/_cacache 2>/dev/null',
        'ls /app/services/*/src 2>/dev/null',
        'ls /run/secrets 2>/dev/null',
        'true'
      ].join('; ')
    ])
    t.equal(findings, '', `${service}: no dangling links, dev tools, npm cache, sources or build secrets`)
  }
})

t.test("the chart's `helm test` pod passes against the running services, and fails where no gateway answers", async (t) => {
  const pod = stack.objects.find((o) => o.kind === 'Pod' && o.metadata.annotations?.['helm.sh/hook'] === 'test')
  if (pod === undefined) throw new Error('the chart rendered no helm test pod')
  const passed = await stack.runPod(pod)
  t.equal(passed.code, 0, passed.output)
  t.equal(passed.output.split('\n').filter((line) => line.startsWith('ok - ')).length, 3, 'readiness, the catalog and GraphQL')
  const nowhere = await stack.runPod(pod, { GATEWAY_URL: 'http://127.0.0.1:9', SMOKE_TEST_TIMEOUT_MS: '2000' })
  t.equal(nowhere.code, 1, 'exit 1 when the gateway does not answer')
  t.match(nowhere.output, /not ok - the gateway and every service behind it are ready/)
})

t.test('a build without SERVICE or PORTS stops before installing anything and says what to pass', async (t) => {
  for (const args of [[], ['--build-arg', 'SERVICE=user']]) {
    const failed = await run('buildah', ['build', '--pull=never', '--layers', '--file', join(repoRoot, 'Dockerfile'), ...args, repoRoot], {
      env: containerEnv(),
      maxBuffer: 64 * 1024 * 1024
    }).then(
      () => undefined,
      (error: { stdout?: string; stderr?: string }) => `${error.stdout ?? ''}${error.stderr ?? ''}`
    )
    t.ok(failed !== undefined, `buildah build ${args.join(' ')} fails`)
    t.match(failed, /--build-arg SERVICE=user --build-arg PORTS=3001/, 'naming each service and its ports')
    t.notMatch(failed, /npm ci/, 'before npm ci')
  }
})

t.test('every container drains and exits 0 on SIGTERM (podman stop)', async (t) => {
  // The gateway first, then what it calls, as a rollout would.
  for (const service of ['gateway', 'user', 'product', 'order', 'recommendation', 'notification']) {
    t.equal(await stack.stop(service), 0, `${service} exited 0`)
  }
})
