import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ProblemError } from '@polyshop/problem'
import { freePort } from '@polyshop/testkit'
import t from 'tap'
import { ProductCatalogClient, RestClient } from '../src/index.js'

async function serve(
  t: { teardown: (fn: () => unknown) => void },
  handler: (request: IncomingMessage, body: string) => [number, string, string?]
) {
  const requests: Array<{ url: string; headers: IncomingMessage['headers']; body: string }> = []
  const server: Server = createServer((request, response) => {
    let body = ''
    request.on('data', (chunk) => {
      body += chunk
    })
    request.on('end', () => {
      requests.push({ url: request.url ?? '', headers: request.headers, body })
      const [status, payload, type] = handler(request, body)
      if (status === 0) return // never answers
      response.writeHead(status, { 'content-type': type ?? 'application/json' }).end(payload)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    server.closeAllConnections()
    server.close()
  })
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests }
}

async function problemOf(promise: Promise<unknown>): Promise<ProblemError> {
  try {
    await promise
  } catch (error) {
    if (error instanceof ProblemError) return error
    throw error
  }
  throw new Error('expected a problem')
}

t.test('a 2xx answer is parsed; the request carries its query, body and forwarded headers', async (t) => {
  const upstream = await serve(t, () => [201, '{"ok":true}'])
  const client = new RestClient({ baseUrl: upstream.url, service: 'user', prefix: 'GW', timeoutMs: 1000 })
  t.teardown(() => client.close())
  const answer = await client.request({
    method: 'POST',
    path: '/api/v1/things',
    query: { a: 'x y', b: 2, c: undefined },
    body: { name: 'n' },
    headers: { 'x-request-id': 'req-1', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', authorization: 'Bearer t' }
  })
  t.same(answer, { ok: true })
  const [seen] = upstream.requests
  t.equal(seen?.url, '/api/v1/things?a=x+y&b=2')
  t.equal(seen?.body, '{"name":"n"}')
  t.equal(seen?.headers['x-request-id'], 'req-1')
  t.equal(seen?.headers.authorization, 'Bearer t')
  t.match(seen?.headers.traceparent, /^00-0af7651916cd43dd8448eb211c80319c/)
})

t.test("a service's own problem below 500 passes on as it was said", async (t) => {
  const upstream = await serve(t, () => [
    404,
    JSON.stringify({
      type: '/problems/prd-product-not-found',
      title: 'Product not found',
      status: 404,
      code: 'PRD_PRODUCT_NOT_FOUND',
      detail: 'No such product.'
    }),
    'application/problem+json'
  ])
  const client = new RestClient({ baseUrl: upstream.url, service: 'product', prefix: 'GW', timeoutMs: 1000 })
  t.teardown(() => client.close())
  const problem = await problemOf(client.request({ path: '/api/v1/products/x' }))
  t.equal(problem.code, 'PRD_PRODUCT_NOT_FOUND')
  t.equal(problem.status, 404)
  t.equal(problem.detail, 'No such product.')
})

t.test('a failing service is 502 without its words; a down one 503; a slow one 504 within the deadline', async (t) => {
  const failing = await serve(t, () => [500, '{"message":"TypeError at /srv/app.js:12"}'])
  const failingClient = new RestClient({ baseUrl: failing.url, service: 'product', prefix: 'GW', timeoutMs: 1000 })
  const down = new RestClient({ baseUrl: `http://127.0.0.1:${await freePort()}`, service: 'product', prefix: 'GW', timeoutMs: 1000 })
  const hanging = await serve(t, () => [0, ''])
  const slow = new RestClient({ baseUrl: hanging.url, service: 'product', prefix: 'GW', timeoutMs: 300 })
  t.teardown(() => Promise.all([failingClient.close(), down.close(), slow.close()]))

  const failed = await problemOf(failingClient.request({ path: '/' }))
  t.equal(failed.code, 'GW_UPSTREAM_FAILED')
  t.equal(failed.status, 502)
  t.notMatch(failed.detail ?? '', /TypeError|srv/)

  const unavailable = await problemOf(down.request({ path: '/' }))
  t.equal(unavailable.code, 'GW_UPSTREAM_UNAVAILABLE')
  t.equal(unavailable.status, 503)

  const started = Date.now()
  const timedOut = await problemOf(slow.request({ path: '/' }))
  t.equal(timedOut.code, 'GW_UPSTREAM_TIMEOUT')
  t.equal(timedOut.status, 504)
  t.ok(Date.now() - started < 3000, 'answered near the deadline, not after a hang')
})

t.test('the catalog client looks many products up in one call, remembers them for its TTL, and leaves unknown ids out', async (t) => {
  const product = (id: string) => ({
    id,
    name: id,
    description: '',
    category: 'tea',
    price: { amount: 100, currency: 'EUR' },
    stock: 1,
    images: [],
    attributes: {},
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z'
  })
  const upstream = await serve(t, (request) => {
    const ids = new URL(request.url ?? '', 'http://x').searchParams.get('ids')?.split(',') ?? []
    return [200, JSON.stringify({ items: ids.filter((id) => id !== 'gone').map(product), nextCursor: null })]
  })
  const rest = new RestClient({ baseUrl: upstream.url, service: 'product', prefix: 'REC', timeoutMs: 1000 })
  t.teardown(() => rest.close())
  const catalog = new ProductCatalogClient(rest, { cacheTtlMs: 60_000 })
  const ids = Array.from({ length: 150 }, (_, i) => `p${i}`)
  const found = await catalog.getMany([...ids, 'gone', 'p1'])
  t.equal(found.size, 150)
  t.notOk(found.has('gone'))
  t.equal(upstream.requests.length, 2, '151 distinct ids: two calls of at most 100')
  await catalog.getMany(['p3', 'p149', 'gone'])
  t.equal(upstream.requests.length, 2, 'served from the cache, misses included')

  const uncached = new ProductCatalogClient(rest)
  await uncached.getMany(['p1'])
  await uncached.getMany(['p1'])
  t.equal(upstream.requests.length, 4, 'without a TTL every lookup asks the catalog')
})
