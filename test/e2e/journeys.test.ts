// End to end on the whole stack of real processes: the journey of journey.ts, then what only host
// processes let a test do: a service outage and every service's drain on SIGTERM.
import { eventually, startWholeStack } from '@polyshop/testkit'
import t from 'tap'
import { journeyClient, journeyTests } from './journey.js'

interface Product {
  id: string
}

const stack = await startWholeStack(t)
const { api, graphql } = journeyClient(stack.gateway)
journeyTests(t, { gateway: stack.gateway, orderGrpc: stack.orderGrpc, mails: async () => stack.mails })

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
