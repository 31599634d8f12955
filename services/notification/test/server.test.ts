import { eventually, freePort, spawnService, uniqueDatabaseUrl } from '@polyshop/testkit'
import t from 'tap'

const server = 'notification'

t.test('the real process consumes, answers its probes, and stops cleanly on SIGTERM', async (t) => {
  const port = await freePort()
  const { child, exited, output } = spawnService(t, server, {
    PORT: String(port),
    HOST: '127.0.0.1',
    MONGODB_URL: uniqueDatabaseUrl('notification_server'),
    // No user service here: serve at once rather than wait for it.
    USER_SERVICE_WAIT_SECONDS: '0',
    KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '',
    LOG_LEVEL: 'info'
  })
  await eventually(
    async () => ((await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.ok ? true : undefined),
    60_000,
    `readiness; output: ${output()}`
  )
  t.equal((await fetch(`http://127.0.0.1:${port}/notifications`)).status, 401, 'the admin API wants a token')
  child.kill('SIGTERM')
  t.equal(await exited, 0)
  t.match(output(), /shutdown complete/)
})
