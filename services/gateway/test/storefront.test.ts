import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { build, sampleOrder } from './helper.js'

/** A storefront build as Vite lays it out: index.html, hashed assets, a favicon. */
function builtStorefront(t: { teardown(fn: () => unknown): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'polyshop-storefront-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  mkdirSync(join(dir, 'assets'))
  writeFileSync(
    join(dir, 'index.html'),
    '<!doctype html><title>polyshop</title><script type="module" src="/assets/index-Ab12.js"></script>'
  )
  writeFileSync(join(dir, 'assets', 'index-Ab12.js'), 'console.log("shop")')
  writeFileSync(join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>')
  return dir
}

t.test('the storefront: index.html at every page path with a strict CSP, hashed assets cached for good, other paths 404', async (t) => {
  const gateway = await build(t, { env: { STOREFRONT_DIR: builtStorefront(t) } })
  for (const path of ['/', '/search?q=tea', '/products/tea', '/cart', '/checkout', '/orders', '/orders/o-1', '/signin', '/admin']) {
    const page = await gateway.app.inject({ url: path })
    t.equal(page.statusCode, 200, path)
    t.match(page.headers['content-type'], /text\/html/, path)
    t.match(page.body, /<title>polyshop<\/title>/, path)
    t.equal(page.headers['cache-control'], 'no-cache', `${path}: revalidated, so a deploy shows at once`)
    t.match(page.headers['content-security-policy'], /default-src 'self'.*script-src 'self'.*frame-ancestors 'none'/, path)
  }
  const script = await gateway.app.inject({ url: '/assets/index-Ab12.js' })
  t.equal(script.statusCode, 200)
  t.equal(script.headers['cache-control'], 'public, max-age=31536000, immutable')
  t.equal(script.headers['x-content-type-options'], 'nosniff')
  t.equal((await gateway.app.inject({ url: '/favicon.svg' })).headers['cache-control'], 'public, max-age=300')
  for (const path of ['/nope', '/products', '/assets/missing.js', '/products/a/b']) {
    const missing = await gateway.app.inject({ url: path })
    t.equal(missing.statusCode, 404, path)
    t.equal(missing.json().code, 'GW_ROUTE_NOT_FOUND', path)
  }
})

t.test('without a built storefront the pages are a 503 problem and the API still works', async (t) => {
  const empty = mkdtempSync(join(tmpdir(), 'polyshop-no-storefront-'))
  t.teardown(() => rmSync(empty, { recursive: true, force: true }))
  const gateway = await build(t, {
    env: { STOREFRONT_DIR: empty },
    product: (app) => {
      app.get('/api/v1/categories', async () => [])
    }
  })
  const page = await gateway.app.inject({ url: '/' })
  t.equal(page.statusCode, 503)
  t.equal(page.json().code, 'GW_STOREFRONT_NOT_BUILT')
  t.equal((await gateway.app.inject({ url: '/api/v1/categories' })).statusCode, 200)
})

t.test("the storefront's GraphQL additions: refresh, logout, admin product and order changes, every user's orders", async (t) => {
  const gateway = await build(t, {
    user: (app) => {
      app.post('/api/v1/auth/refresh', async (request) => ({
        user: { id: 'u-1', email: 'a@example.com', name: 'A', roles: ['customer'], createdAt: '2026-01-01T00:00:00.000Z' },
        accessToken: 'new-access',
        refreshToken: `renewed-${(request.body as { refreshToken: string }).refreshToken}`,
        expiresIn: 900
      }))
      app.post('/api/v1/auth/logout', async (_request, reply) => reply.code(204).send())
    },
    product: (app) => {
      app.patch('/api/v1/products/:id', async (request, reply) => {
        if (request.headers.authorization === undefined) return reply.code(401).send()
        return {
          id: (request.params as { id: string }).id,
          name: 'Tea',
          description: '',
          category: 'coffee',
          price: { amount: 1234, currency: 'EUR' },
          stock: 7,
          images: [],
          attributes: {},
          createdAt: '2026-01-01T00:00:00.000Z',
          updatedAt: '2026-01-02T00:00:00.000Z',
          ...(request.body as object)
        }
      })
    },
    orders: {
      updateOrderStatus: (request) => ({ order: sampleOrder({ id: request.orderId, status: request.status }) }),
      listOrders: () => ({ orders: [sampleOrder()], nextPageToken: '' })
    }
  })
  const admin = gateway.tokens.token(['admin'], 'admin-1')
  const graphql = async (query: string, token?: string) =>
    (
      await gateway.app.inject({
        method: 'POST',
        url: '/graphql',
        headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
        payload: { query }
      })
    ).json()

  const refreshed = await graphql(`mutation { refresh(refreshToken: "${'r'.repeat(40)}") { accessToken refreshToken expiresIn } }`)
  t.same(refreshed.data.refresh, { accessToken: 'new-access', refreshToken: `renewed-${'r'.repeat(40)}`, expiresIn: 900 })
  t.same((await graphql(`mutation { logout(refreshToken: "${'r'.repeat(40)}") }`)).data, { logout: true })
  const logout = gateway.user.seen.find((request) => request.url === '/api/v1/auth/logout')
  t.same(logout?.body, { refreshToken: 'r'.repeat(40) }, 'the refresh token to end travels to the user service')

  const change =
    'mutation { updateProduct(id: "tea", input: { price: { amount: 999, currency: "EUR" }, stock: 3, name: null }) { id price { amount } stock } }'
  const guest = await graphql(change)
  t.equal(guest.errors[0].extensions.code, 'GW_UNAUTHENTICATED', 'a guest is asked to sign in')
  t.notOk(
    gateway.product.seen.some((request) => request.method === 'PATCH'),
    'and nothing travels'
  )
  const updated = await graphql(change, admin)
  t.same(updated.data.updateProduct, { id: 'tea', price: { amount: 999 }, stock: 3 })
  const patch = gateway.product.seen.find((request) => request.method === 'PATCH')
  t.same(patch?.body, { price: { amount: 999, currency: 'EUR' }, stock: 3 }, 'null fields are left out, not sent as null')
  t.equal(patch?.headers.authorization, `Bearer ${admin}`, 'the product service decides whether the caller is an admin')

  const advanced = await graphql('mutation { updateOrderStatus(id: "o-9", status: SHIPPED) { id status } }', admin)
  t.same(advanced.data.updateOrderStatus, { id: 'o-9', status: 'SHIPPED' })
  const bad = await graphql('mutation { updateOrderStatus(id: "o-9", status: CANCELLED) { id } }', admin)
  t.equal(bad.errors[0].extensions.code, 'GRAPHQL_VALIDATION_FAILED', 'only the admin steps are accepted')

  await graphql('{ orders(allUsers: true) { items { id } } }', admin)
  await graphql('{ orders { items { id } } }', admin)
  const lists = gateway.orderCalls
    .filter((call) => call.method === 'listOrders')
    .map((call) => (call.request as { allUsers: boolean }).allUsers)
  t.same(lists, [true, false])
})
