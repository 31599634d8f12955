import { setTimeout as sleep } from 'node:timers/promises'
import { freePort } from '@polyshop/testkit'
import t from 'tap'
import { build } from './helper.js'

const product = {
  id: 'tea',
  name: 'Tea',
  description: 'Green',
  category: 'tea',
  price: { amount: 1190, currency: 'EUR' },
  stock: 3,
  images: ['/images/products/tea.svg'],
  attributes: { origin: 'Japan' },
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z'
}

t.test('catalog requests are forwarded as they are, with the request id, client address and trace', async (t) => {
  const gateway = await build(t, {
    product: (app) => {
      app.get('/api/v1/products/:id', async (request, reply) =>
        (request.params as { id: string }).id === 'tea'
          ? product
          : reply
              .code(404)
              .type('application/problem+json')
              .send({ type: '/problems/prd-product-not-found', title: 'Product not found', status: 404, code: 'PRD_PRODUCT_NOT_FOUND' })
      )
    }
  })
  const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
  const found = await gateway.app.inject({
    url: '/api/v1/products/tea',
    headers: { traceparent, 'x-request-id': 'client-chosen-1', 'x-forwarded-for': '203.0.113.9' }
  })
  t.equal(found.statusCode, 200)
  t.same(found.json(), product)
  t.equal(found.headers['x-request-id'], 'client-chosen-1')
  const seen = gateway.product.seen.find((request) => request.url === '/api/v1/products/tea')
  t.equal(seen?.headers['x-request-id'], 'client-chosen-1', 'the same id reaches the service')
  t.equal(seen?.headers.traceparent, traceparent)
  t.equal(seen?.headers['x-forwarded-for'], '127.0.0.1', 'the address the gateway saw, not what the client claimed')

  const missing = await gateway.app.inject({ url: '/api/v1/products/nope' })
  t.equal(missing.statusCode, 404)
  t.match(missing.headers['content-type'], /^application\/problem\+json/)
  t.equal(missing.json().code, 'PRD_PRODUCT_NOT_FOUND', "the service's own problem passes through")
  t.match(String(missing.headers['x-request-id']), /^[0-9a-f-]{36}$/, 'a request id is made up when none is sent')
})

t.test('bad input is refused at the edge and never travels', async (t) => {
  const gateway = await build(t)
  const response = await gateway.app.inject({
    method: 'POST',
    url: '/api/v1/auth/register',
    payload: { email: 'not-an-email', password: 'x', name: 'A', isAdmin: true }
  })
  t.equal(response.statusCode, 400)
  t.equal(response.json().code, 'GW_VALIDATION')
  t.equal(gateway.user.seen.filter((r) => r.url.startsWith('/api')).length, 0)
  const query = await gateway.app.inject({ url: '/api/v1/products?limit=abc' })
  t.equal(query.statusCode, 400)
  const huge = await gateway.app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ email: 'a@b.co', password: 'x'.repeat(70_000) })
  })
  t.equal(huge.statusCode, 413)
  t.equal(huge.headers['content-type'], 'application/problem+json; charset=utf-8')
})

t.test('routes that need a user check the token first; the token travels on', async (t) => {
  const gateway = await build(t, {
    user: (app) => {
      app.get('/api/v1/users/me', async (request) => ({ seenAuthorization: request.headers.authorization }))
      app.get('/api/v1/users', async () => ({ items: [], nextCursor: null }))
    }
  })
  const anonymous = await gateway.app.inject({ url: '/api/v1/users/me' })
  t.equal(anonymous.statusCode, 401)
  t.equal(anonymous.json().code, 'GW_UNAUTHENTICATED')
  t.match(anonymous.headers['www-authenticate'], /^Bearer/)
  const forged = await gateway.app.inject({ url: '/api/v1/users/me', headers: { authorization: 'Bearer eyJhbGciOiJub25lIn0.e30.' } })
  t.equal(forged.statusCode, 401)
  t.equal(gateway.user.seen.filter((r) => r.url.startsWith('/api')).length, 0, 'nothing unauthenticated reached the service')

  const token = gateway.tokens.token(['customer'], 'u-1')
  const me = await gateway.app.inject({ url: '/api/v1/users/me', headers: { authorization: `Bearer ${token}` } })
  t.equal(me.statusCode, 200)
  t.same(me.json(), { seenAuthorization: `Bearer ${token}` })
  const notAdmin = await gateway.app.inject({ url: '/api/v1/users', headers: { authorization: `Bearer ${token}` } })
  t.equal(notAdmin.statusCode, 403)
  t.equal(notAdmin.json().code, 'GW_FORBIDDEN')
})

t.test('a service that is down is a 503 problem at once; a slow one a 504 at the deadline', async (t) => {
  const gateway = await build(t, {
    product: (app) => {
      app.get('/api/v1/categories', async () => {
        await sleep(2000)
        return []
      })
    },
    env: { PRODUCT_SERVICE_URL: `http://127.0.0.1:${await freePort()}` }
  })
  let started = Date.now()
  const down = await gateway.app.inject({ url: '/api/v1/products' })
  t.equal(down.statusCode, 503)
  t.equal(down.json().code, 'GW_UPSTREAM_UNAVAILABLE')
  t.equal(down.json().detail, 'The product service is unavailable; retry shortly.')
  t.ok(Date.now() - started < 2000, 'quickly')

  const slow = await build(t, {
    product: (app) => {
      app.get('/api/v1/categories', async () => {
        await sleep(3000)
        return []
      })
    }
  })
  started = Date.now()
  const late = await slow.app.inject({ url: '/api/v1/categories' })
  t.equal(late.statusCode, 504)
  t.equal(late.json().code, 'GW_UPSTREAM_TIMEOUT')
  t.ok(Date.now() - started < 2500, 'at the 500 ms deadline, not after the service answers')
  const healthz = await gateway.app.inject({ url: '/healthz' })
  t.equal(healthz.statusCode, 200, 'the gateway itself stays healthy')
  const readyz = await gateway.app.inject({ url: '/readyz' })
  t.equal(readyz.statusCode, 503)
  t.match(readyz.json().detail, /product is not reachable/)
})

t.test('open catalog routes let guests in but refuse a bad token', async (t) => {
  const gateway = await build(t, { product: (app) => app.get('/api/v1/products/:id', async () => product) })
  t.equal((await gateway.app.inject({ url: '/api/v1/products/tea' })).statusCode, 200, 'a guest')
  const signedIn = await gateway.app.inject({
    url: '/api/v1/products/tea',
    headers: { authorization: `Bearer ${gateway.tokens.token(['customer'])}` }
  })
  t.equal(signedIn.statusCode, 200, 'a customer')
  const forged = await gateway.app.inject({ url: '/api/v1/products/tea', headers: { authorization: 'Bearer not.a.token' } })
  t.equal(forged.statusCode, 401)
  t.equal(forged.json().code, 'GW_UNAUTHENTICATED')
})
