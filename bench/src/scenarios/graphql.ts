import { freePort, spawnService } from '@polyshop/testkit'
import { alternate, median, ratio } from '../compare.js'
import type { BenchContext, ScenarioReport } from '../context.js'
import { saturation } from '../context.js'
import { measure } from '../measure.js'

const PRODUCT_QUERY =
  '{ product(id: "beanie") { id name description category price { amount currency } stock images createdAt updatedAt } }'
const RECOMMENDATIONS_QUERY = '{ recommendations(limit: 10) { score reason product { id name price { amount currency } stock } } }'

interface Teardown {
  teardown(fn: () => unknown): void
}

/** The catalog calls the product service has answered so far (its request histogram). */
async function catalogCalls(productUrl: string): Promise<number> {
  const text = await (await fetch(`${productUrl}/metrics`)).text()
  let total = 0
  for (const line of text.split('\n')) {
    if (line.startsWith('http_request_duration_seconds_count') && line.includes('route="/api/v1/products"'))
      total += Number(line.split(' ').at(-1))
  }
  return total
}

async function graphql(url: string, query: string, token?: string): Promise<string> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
    body: JSON.stringify({ query })
  })
  const text = await response.text()
  if (!response.ok || text.includes('"errors"')) throw new Error(`GraphQL ${query} answered ${response.status}: ${text}`)
  return text
}

/**
 * 4. GraphQL `product(id)` vs the REST route through the gateway; `recommendations(limit: 10)`
 * with mercurius' graphql-jit on vs off (two gateways on the same services); and how many catalog
 * calls one GraphQL request costs (order items' products: one batch).
 */
export async function graphqlScenario(t: Teardown, context: BenchContext): Promise<ScenarioReport> {
  const { stack, settings, pids } = context
  const restBody = await (await fetch(`${stack.gateway}/api/v1/products/beanie`)).text()
  const productBody = await graphql(stack.gateway, PRODUCT_QUERY)
  const post = (query: string) => ({
    method: 'POST' as const,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query })
  })
  const watched = { gateway: pids.gateway ?? 0 }
  const restVsGraphql = await alternate(settings.rounds, {
    rest: () => measure(saturation(settings, { url: `${stack.gateway}/api/v1/products/beanie`, expectBody: restBody }), watched),
    graphql: () =>
      measure(saturation(settings, { url: `${stack.gateway}/graphql`, ...post(PRODUCT_QUERY), expectBody: productBody }), watched)
  })

  // A second gateway, identical but for graphql-jit.
  const [port, managementPort] = [await freePort(), await freePort()]
  const jitGateway = spawnService(t, 'gateway', {
    HOST: '127.0.0.1',
    PORT: String(port),
    MANAGEMENT_PORT: String(managementPort),
    LOG_LEVEL: 'warn',
    USER_SERVICE_URL: stack.urls.user ?? '',
    PRODUCT_SERVICE_URL: stack.urls.product ?? '',
    ORDER_GRPC_URL: stack.orderGrpc,
    RECOMMENDATION_URL: `${stack.urls.recommendation}/graphql`,
    RATE_LIMIT_PER_MINUTE: '1000000',
    KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '',
    GRAPHQL_JIT: '1'
  })
  const jitUrl = `http://127.0.0.1:${port}`
  for (let attempt = 0; ; attempt++) {
    if ((await fetch(`${jitUrl}/healthz`).catch(() => undefined))?.ok) break
    if (attempt >= 300 || jitGateway.child.exitCode !== null) {
      throw new Error(`the second (graphql-jit) gateway did not start: ${jitGateway.output()}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  const recommendationsBody = await graphql(stack.gateway, RECOMMENDATIONS_QUERY)
  const jit = await alternate(settings.rounds, {
    off: () =>
      measure(
        saturation(settings, { url: `${stack.gateway}/graphql`, ...post(RECOMMENDATIONS_QUERY), expectBody: recommendationsBody }),
        watched
      ),
    on: () =>
      measure(saturation(settings, { url: `${jitUrl}/graphql`, ...post(RECOMMENDATIONS_QUERY), expectBody: recommendationsBody }), {
        gateway: jitGateway.child.pid ?? 0
      })
  })
  jitGateway.child.kill('SIGTERM')
  await jitGateway.exited

  // Catalog calls per GraphQL request: a customer with 3 orders of 2 lines each.
  const token = await context.customerToken()
  for (let i = 0; i < 3; i++) {
    const placed = await fetch(`${stack.gateway}/api/v1/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'idempotency-key': `bench-graphql-${i}` },
      body: JSON.stringify({
        items: [
          { productId: 'beanie', quantity: 1 },
          { productId: 'notebook-a5', quantity: 1 }
        ],
        shippingAddress: { name: 'Bench', line1: '1 Load St', city: 'Berlin', postalCode: '10115', country: 'DE' }
      })
    })
    if (placed.status !== 201) throw new Error(`placing an order answered ${placed.status}: ${await placed.text()}`)
  }
  // The recommendation service looks the new orders' products up as it learns them: let it finish first.
  await new Promise((resolve) => setTimeout(resolve, 3000))
  const ordersQuery = '{ orders(first: 10) { items { id items { quantity product { name } } } } }'
  const before = await catalogCalls(stack.urls.product ?? '')
  const asked = 20
  for (let i = 0; i < asked; i++) await graphql(stack.gateway, ordersQuery, token)
  const perRequest = ((await catalogCalls(stack.urls.product ?? '')) - before) / asked

  const tp = (runs: Array<{ throughput: number }> | undefined) => (runs ?? []).map((r) => r.throughput)
  return {
    title: '4. GraphQL through the gateway',
    ratios: [
      {
        name: 'GraphQL product(id) / REST throughput',
        ...ratio(tp(restVsGraphql.graphql).map((x, i) => x / (tp(restVsGraphql.rest)[i] ?? 1))),
        goal: 0.8
      },
      { name: 'recommendations(limit: 10): JIT on / off throughput', ...ratio(tp(jit.on).map((x, i) => x / (tp(jit.off)[i] ?? 1))) },
      {
        name: 'catalog calls per orders{items{product}} request (6 items)',
        median: perRequest,
        min: perRequest,
        max: perRequest,
        goal: 1,
        atMost: true
      }
    ],
    numbers: {
      'REST req/s': Math.round(median(tp(restVsGraphql.rest))),
      'GraphQL product req/s': Math.round(median(tp(restVsGraphql.graphql))),
      'recommendations req/s JIT off': Math.round(median(tp(jit.off))),
      'recommendations req/s JIT on': Math.round(median(tp(jit.on)))
    }
  }
}
