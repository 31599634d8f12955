import { eventually, freePort, spawnService, uniqueDatabaseUrl } from '@polyshop/testkit'
import t from 'tap'

const server = 'user'

t.test('a bad configuration stops the service before it starts, naming the variables', async (t) => {
  const { exited, output } = spawnService(t, server, { MONGODB_URL: 'postgres://nope', KAFKA_BROKERS: 'kafka:9092', PORT: '0' })
  t.equal(await exited, 1)
  t.match(output(), /user: invalid configuration:/)
  t.match(output(), /MONGODB_URL: must match pattern/)
  t.match(output(), /PORT: .*\(got "0"\)/)
  t.notMatch(output(), /postgres:\/\/nope/, 'the URL itself is not echoed')
})

t.test('the real process serves, reports ready, creates the admin, and drains on SIGTERM', async (t) => {
  const port = await freePort()
  const { child, exited, output } = spawnService(t, server, {
    PORT: String(port),
    HOST: '127.0.0.1',
    MONGODB_URL: uniqueDatabaseUrl('user_server'),
    KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '',
    ADMIN_EMAIL: 'boot@example.com',
    ADMIN_PASSWORD: 'boot password 1',
    PASSWORD_HASH_COST: '14'
  })
  const base = `http://127.0.0.1:${port}`
  await eventually(
    async () => ((await fetch(`${base}/readyz`).catch(() => undefined))?.ok ? true : undefined),
    60_000,
    `readiness; output: ${output()}`
  )
  t.equal((await fetch(`${base}/healthz`)).status, 200)
  const login = await fetch(`${base}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'boot@example.com', password: 'boot password 1' })
  })
  t.equal(login.status, 200, 'the admin from ADMIN_EMAIL/ADMIN_PASSWORD exists')
  t.same(((await login.json()) as { user: { roles: string[] } }).user.roles, ['admin', 'customer'])
  const metrics = await (await fetch(`${base}/metrics`)).text()
  t.match(metrics, /http_request_duration_seconds_count\{service="user",method="POST",route="\/api\/v1\/auth\/login",status_code="200"\} 1/)
  t.match(output(), /JWT_PRIVATE_KEY is not set/, 'a generated key is announced')
  child.kill('SIGTERM')
  t.equal(await exited, 0)
  t.match(output(), /shutdown complete/)
})
