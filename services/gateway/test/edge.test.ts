import t from 'tap'
import { build } from './helper.js'

const authPayload = {
  user: { id: 'u-1', email: 'a@example.com', name: 'A', roles: ['customer'], disabled: false, createdAt: '2026-01-01T00:00:00.000Z' },
  accessToken: 'a',
  refreshToken: 'r'.repeat(40),
  expiresIn: 900
}

t.test('login attempts share one limit across REST and GraphQL; the answer says when to retry', async (t) => {
  const gateway = await build(t, {
    user: (app) => {
      app.post('/api/v1/auth/login', async () => authPayload)
    },
    env: { AUTH_RATE_LIMIT_PER_MINUTE: '3', RATE_LIMIT_PER_MINUTE: '6' }
  })
  const rest = () => gateway.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'a@example.com', password: 'pw' } })
  const graphql = () =>
    gateway.app.inject({
      method: 'POST',
      url: '/graphql',
      payload: { query: 'mutation { login(email: "a@example.com", password: "pw") { accessToken } }' }
    })
  t.equal((await rest()).statusCode, 200)
  t.equal((await graphql()).json().data.login.accessToken, 'a')
  t.equal((await rest()).statusCode, 200)
  const limited = await rest()
  t.equal(limited.statusCode, 429)
  t.equal(limited.json().code, 'GW_RATE_LIMITED')
  t.ok(Number(limited.headers['retry-after']) > 0)
  const limitedGraphql = (await graphql()).json()
  t.equal(limitedGraphql.errors[0].extensions.code, 'GW_RATE_LIMITED', 'GraphQL is not a way around it')
  for (let i = 0; i < 8; i++) await gateway.app.inject({ url: '/api/v1/categories' })
  t.equal((await gateway.app.inject({ url: '/api/v1/categories' })).statusCode, 429, 'past the global limit')
  t.equal((await gateway.app.inject({ url: '/healthz' })).statusCode, 200, 'probes are never limited')
  t.equal((await gateway.management.inject({ url: '/metrics' })).statusCode, 200, 'nor scrapes (on the management port)')
})

t.test('the OpenAPI document covers the public REST surface; docs, storefront and metrics are served', async (t) => {
  const gateway = await build(t)
  const document = (await gateway.app.inject({ url: '/docs/json' })).json()
  t.equal(document.openapi, '3.1.0')
  for (const path of [
    '/api/v1/auth/register',
    '/api/v1/auth/login',
    '/api/v1/users/me',
    '/api/v1/products',
    '/api/v1/products/{id}',
    '/api/v1/categories',
    '/api/v1/orders',
    '/api/v1/orders/{id}',
    '/api/v1/orders/{id}/cancel',
    '/api/v1/orders/{id}/status'
  ]) {
    t.ok(document.paths[path], `documents ${path}`)
  }
  t.ok(document.paths['/api/v1/orders'].post.parameters.some((p: { name: string }) => p.name === 'idempotency-key'))
  t.ok(document.paths['/api/v1/products/{id}'].get.responses['404'], 'problems are documented')
  const docs = await gateway.app.inject({ url: '/docs' })
  t.ok(docs.statusCode === 200 || docs.statusCode === 302)
  const home = await gateway.app.inject({ url: '/' })
  t.equal(home.statusCode, 200)
  t.match(home.headers['content-type'], /text\/html/)
  const scraped = (await gateway.management.inject({ url: '/metrics' })).body
  t.match(scraped, /http_request_duration_seconds_count\{[^}]*route="\/docs\/json"/, 'the public port is measured')
  t.match(scraped, /process_resident_memory_bytes/)
})

t.test('the public port shows no internals: no /metrics; /readyz cannot make the gateway flood the services', async (t) => {
  const gateway = await build(t)
  await gateway.app.inject({ url: '/api/v1/products/x' })
  const publicMetrics = await gateway.app.inject({ url: '/metrics' })
  t.equal(publicMetrics.statusCode, 404, '/metrics is not on the public port')
  t.notMatch(publicMetrics.body, /process_|http_request/)
  for (const url of ['/healthz', '/readyz', '/metrics']) {
    t.not((await gateway.management.inject({ url })).statusCode, 404, `${url} on the management port`)
  }
  const healthChecks = () => gateway.user.seen.filter((request) => request.url === '/healthz').length
  // Past the cached second, then 200 requests, half of them on each port.
  await new Promise((resolve) => setTimeout(resolve, 1100))
  const before = healthChecks()
  const answers = await Promise.all(
    Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? gateway.app : gateway.management).inject({ url: '/readyz' }))
  )
  t.ok(
    answers.every((answer) => answer.statusCode === 200 || answer.statusCode === 503),
    'every /readyz is answered'
  )
  const checks = healthChecks() - before
  t.ok(
    checks <= 1,
    `200 /readyz requests on both ports made ${checks} health check of the user service (at most one a second, the ports share it)`
  )
})

t.test('CORS is closed unless origins are configured', async (t) => {
  const closed = await build(t)
  const preflight = {
    method: 'OPTIONS' as const,
    url: '/api/v1/products',
    headers: { origin: 'https://shop.example', 'access-control-request-method': 'GET' }
  }
  t.notOk((await closed.app.inject(preflight)).headers['access-control-allow-origin'])
  const open = await build(t, { env: { CORS_ORIGINS: 'https://shop.example' } })
  t.equal((await open.app.inject(preflight)).headers['access-control-allow-origin'], 'https://shop.example')
  const other = await open.app.inject({ ...preflight, headers: { ...preflight.headers, origin: 'https://evil.example' } })
  t.notOk(other.headers['access-control-allow-origin'])
})

t.test("the recommendation service's refusals pass on as they were said; its outages become the gateway's codes", async (t) => {
  let answer: object = {}
  const gateway = await build(t, {
    recommendation: (app) => {
      app.post('/graphql', async () => answer)
    }
  })
  const ask = async () =>
    (
      await gateway.app.inject({ method: 'POST', url: '/graphql', payload: { query: '{ similarProducts(productId: "a b") { score } }' } })
    ).json()
  answer = { data: null, errors: [{ message: 'Invalid request.', extensions: { code: 'PRD_VALIDATION', status: 400 } }] }
  t.same((await ask()).errors[0].extensions, { code: 'PRD_VALIDATION', status: 400, classification: 'BAD_REQUEST' })
  answer = {
    data: null,
    errors: [{ message: 'The product service is unavailable', extensions: { code: 'REC_UPSTREAM_UNAVAILABLE', status: 503 } }]
  }
  t.equal((await ask()).errors[0].extensions.code, 'GW_UPSTREAM_UNAVAILABLE')
  answer = { data: null, errors: [{ message: 'boom', extensions: { code: 'INTERNAL' } }] }
  t.equal((await ask()).errors[0].extensions.code, 'GW_UPSTREAM_FAILED')
})

t.test('a known path with a method it does not take is 405 with Allow; errors are documented as problem+json', async (t) => {
  const gateway = await build(t)
  for (const [method, url, allow] of [
    ['TRACE', '/api/v1/categories', 'GET, HEAD'],
    ['DELETE', '/api/v1/orders', 'GET, HEAD, POST'],
    ['PUT', '/api/v1/products/abc', 'DELETE, GET, HEAD, PATCH'],
    ['POST', '/healthz', 'GET, HEAD']
  ] as const) {
    const answer = await gateway.app.inject({ method: method as 'GET', url })
    t.equal(answer.statusCode, 405, `${method} ${url}`)
    t.equal(answer.headers.allow, allow, `Allow: ${allow}`)
    t.equal(answer.headers['content-type'], 'application/problem+json; charset=utf-8')
    t.equal(answer.json().code, 'GW_METHOD_NOT_ALLOWED')
  }
  t.equal((await gateway.app.inject({ method: 'GET', url: '/api/v1/nothing-here' })).statusCode, 404, 'an unknown path stays 404')

  const document = (await gateway.app.inject({ url: '/docs/json' })).json()
  const problem = document.paths['/api/v1/products/{id}'].get.responses['404'].content
  t.same(Object.keys(problem), ['application/problem+json'], 'problems are documented as application/problem+json')
  t.notOk(document.paths['/graphql'], 'GraphQL is described by its schema, not as opaque routes')
  t.equal(document.paths['/api/v1/auth/logout'].post.requestBody.required, false, "logout's body may be left out")
})
