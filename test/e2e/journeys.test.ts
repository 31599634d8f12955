// End to end on the whole stack of real processes: the journey of journey.ts, then what only host
// processes let a test do: a service outage and every service's drain on SIGTERM.
import { Code, createClient } from '@connectrpc/connect'
import { createGrpcTransport } from '@connectrpc/connect-node'
import { InventoryService } from '@polyshop/proto'
import { eventually, grpcCode, startWholeStack } from '@polyshop/testkit'
import t from 'tap'
import { address, journeyClient, journeyTests } from './journey.js'

interface Product {
  id: string
}

const stack = await startWholeStack(t)
const { api, graphql, register } = journeyClient(stack.gateway)
journeyTests(t, { gateway: stack.gateway, orderGrpc: stack.orderGrpc, mails: async () => stack.mails })

t.test('attack: straight to the product service gRPC port, reservations are refused without the order service token', async (t) => {
  const inventory = createClient(InventoryService, createGrpcTransport({ baseUrl: stack.urls.productGrpc as string }))
  const stock = async () => (await api<{ stock: number }>('/api/v1/products/wool-socks')).body.stock
  const before = await stock()
  const customer = await register('Mallory')
  const reserve = (token?: string) =>
    grpcCode(
      inventory.reserveStock(
        { orderId: `no-such-order-${token?.slice(-6) ?? 'none'}`, lines: [{ productId: 'wool-socks', quantity: 1 }] },
        { timeoutMs: 5000, ...(token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } }) }
      )
    )
  t.equal(await reserve(), Code.Unauthenticated, 'no token: UNAUTHENTICATED')
  t.equal(await reserve(customer.token), Code.Unauthenticated, "a customer's access token: UNAUTHENTICATED (not a service token)")
  t.equal(await grpcCode(inventory.releaseStock({ orderId: 'any' }, { timeoutMs: 5000 })), Code.Unauthenticated, 'release too')
  t.equal(await stock(), before, 'no unit was held')
  const placed = await api<{ status: string }>('/api/v1/orders', {
    method: 'POST',
    token: customer.token,
    headers: { 'idempotency-key': `svc-token-${Date.now()}` },
    body: { items: [{ productId: 'wool-socks', quantity: 1 }], shippingAddress: address }
  })
  t.equal(
    placed.status,
    201,
    `the order service, with its own token, still reserves${placed.status === 201 ? '' : `: ${JSON.stringify(placed.body)}`}`
  )
  t.equal(await stock(), before - 1)
})

t.test(
  'failure: with the product service down the catalog is a quick 503 and the gateway stays healthy; it recovers by itself',
  async (t) => {
    const restart = await stack.stopProduct()
    const started = Date.now()
    const down = await api<{ code: string; status: number }>('/api/v1/products/beanie')
    t.equal(down.status, 503)
    t.equal(down.headers.get('content-type')?.split(';')[0], 'application/problem+json')
    t.equal(down.body.code, 'GW_UPSTREAM_UNAVAILABLE')
    const viaGraphql = await graphql('{ products(first: 1) { items { id } } }')
    t.equal(viaGraphql.errors?.[0]?.extensions.code, 'GW_UPSTREAM_UNAVAILABLE')
    t.ok(Date.now() - started < 3000, `answered in ${Date.now() - started} ms, within the deadline`)
    t.equal((await api('/healthz')).status, 200)
    t.equal((await api('/readyz')).status, 503, 'readiness names the missing service')

    await restart()
    const back = await eventually(
      async () => {
        const answer = await api<Product>('/api/v1/products/beanie')
        return answer.status === 200 ? answer : undefined
      },
      30_000,
      'the catalog through the same gateway process'
    )
    t.equal(back.body.id, 'beanie')
    t.equal(stack.processes.gateway?.child.exitCode, null, 'the gateway was never restarted')
  }
)

t.test('every service drains and exits cleanly on SIGTERM', async (t) => {
  const processes = Object.entries(stack.processes)
  for (const [, process] of processes) process.child.kill('SIGTERM')
  for (const [name, process] of processes) {
    // Exit code 0 only comes from the end of the graceful path (a signal death or a closer failing exits otherwise).
    t.equal(await process.exited, 0, `${name} drained and exited 0`)
  }
})
