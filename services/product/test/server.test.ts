import { createClient } from '@connectrpc/connect'
import { createGrpcTransport } from '@connectrpc/connect-node'
import { Health, HealthCheckResponse_ServingStatus } from '@polyshop/proto'
import { eventually, freePort, spawnService, uniqueDatabaseUrl } from '@polyshop/testkit'
import t from 'tap'

const server = 'product'

t.test('the real process seeds the demo catalog, serves REST and gRPC, and drains on SIGTERM', async (t) => {
  const [port, grpcPort] = [await freePort(), await freePort()]
  const { child, exited, output } = spawnService(t, server, {
    PORT: String(port),
    GRPC_PORT: String(grpcPort),
    HOST: '127.0.0.1',
    MONGODB_URL: uniqueDatabaseUrl('product_server'),
    // No user service here: serve at once rather than wait for it.
    USER_SERVICE_WAIT_SECONDS: '0',
    SEED_DEMO_CATALOG: 'true'
  })
  const base = `http://127.0.0.1:${port}`
  await eventually(
    async () => ((await fetch(`${base}/readyz`).catch(() => undefined))?.ok ? true : undefined),
    60_000,
    `readiness; output: ${output()}`
  )
  const page = (await (await fetch(`${base}/api/v1/products?limit=100`)).json()) as { items: unknown[] }
  t.equal(page.items.length, 60, 'the demo catalog is there')
  const health = createClient(Health, createGrpcTransport({ baseUrl: `http://127.0.0.1:${grpcPort}` }))
  t.equal((await health.check({ service: '' })).status, HealthCheckResponse_ServingStatus.SERVING)
  child.kill('SIGTERM')
  t.equal(await exited, 0, 'the open gRPC session did not hold up the shutdown')
  t.match(output(), /shutdown complete/)
})

t.test('a bad configuration stops it before it starts', async (t) => {
  const { exited, output } = spawnService(t, server, {
    MONGODB_URL: 'mongodb://127.0.0.1:1/x',
    GRPC_PORT: 'grpc',
    CATALOG_CURRENCY: 'euro'
  })
  t.equal(await exited, 1)
  t.match(output(), /GRPC_PORT: .*\(got "grpc"\)/)
  t.match(output(), /CATALOG_CURRENCY: must match pattern/)
})
