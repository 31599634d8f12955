import { createClient } from '@connectrpc/connect'
import { createGrpcTransport } from '@connectrpc/connect-node'
import { Health, HealthCheckResponse_ServingStatus } from '@polyshop/proto'
import { eventually, freePort, spawnService, uniqueDatabaseUrl } from '@polyshop/testkit'
import t from 'tap'

const server = 'order'

t.test('the real process reports healthy over gRPC and HTTP, and drains on SIGTERM', async (t) => {
  const [port, grpcPort] = [await freePort(), await freePort()]
  const { child, exited, output } = spawnService(t, server, {
    PORT: String(port),
    GRPC_PORT: String(grpcPort),
    HOST: '127.0.0.1',
    MONGODB_URL: uniqueDatabaseUrl('order_server'),
    // No user service here: serve at once rather than wait for it.
    USER_SERVICE_WAIT_SECONDS: '0',
    KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '',
    SERVICE_CLIENT_SECRET: 'order-server-test-client-secret'
  })
  await eventually(
    async () => ((await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.ok ? true : undefined),
    60_000,
    `readiness; output: ${output()}`
  )
  const health = createClient(Health, createGrpcTransport({ baseUrl: `http://127.0.0.1:${grpcPort}` }))
  t.equal((await health.check({ service: 'shop.order.v1.OrderService' })).status, HealthCheckResponse_ServingStatus.SERVING)
  t.match(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text(), /process_cpu_user_seconds_total\{service="order"\}/)
  child.kill('SIGTERM')
  t.equal(await exited, 0)
  t.match(output(), /shutdown complete/)
})
