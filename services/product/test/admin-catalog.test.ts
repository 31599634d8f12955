import t from 'tap'
import { adminHeaders, build, customerHeaders } from './helper.js'

const payload = {
  name: 'Stoneware Teapot',
  description: 'Holds four cups; the lid stays put when pouring.',
  category: 'coffee',
  price: { amount: 3490, currency: 'EUR' },
  stock: 12,
  attributes: { material: 'stoneware', colour: 'blue' }
}

t.test('an admin creates, changes and deletes a product; search sees each change', async (t) => {
  const { app } = await build(t)
  const created = await app.inject({ method: 'POST', url: '/api/v1/products', headers: adminHeaders(), payload })
  t.equal(created.statusCode, 201)
  const product = created.json()
  t.match(product, { ...payload, images: [`/images/products/${product.id}.svg`] })
  t.notOk('keywords' in product, 'search internals stay inside')
  t.same(
    (await app.inject('/api/v1/products?q=teapot')).json().items.map((p: { id: string }) => p.id),
    [product.id]
  )

  const changed = await app.inject({
    method: 'PATCH',
    url: `/api/v1/products/${product.id}`,
    headers: adminHeaders(),
    payload: { name: 'Stoneware Tea Kettle', price: { amount: 2990, currency: 'EUR' } }
  })
  t.equal(changed.statusCode, 200)
  t.match(changed.json(), { name: 'Stoneware Tea Kettle', price: { amount: 2990 }, stock: 12 })
  t.same((await app.inject('/api/v1/products?q=teapot')).json().items, [], 'the old name no longer matches')
  t.equal((await app.inject('/api/v1/products?q=kettle&category=coffee')).json().items.length, 2)

  const image = await app.inject(`/images/products/${product.id}.svg`)
  t.equal(image.statusCode, 200)
  t.equal(image.headers['content-type'], 'image/svg+xml')
  t.match(image.body, /<svg[\s\S]*Stoneware Tea Kettle/)

  t.equal((await app.inject({ method: 'DELETE', url: `/api/v1/products/${product.id}`, headers: adminHeaders() })).statusCode, 204)
  t.equal((await app.inject(`/api/v1/products/${product.id}`)).statusCode, 404)
  t.equal((await app.inject({ method: 'DELETE', url: `/api/v1/products/${product.id}`, headers: adminHeaders() })).statusCode, 404)
})

t.test('only admins write; the catalog currency and categories are enforced', async (t) => {
  const { app } = await build(t)
  t.equal((await app.inject({ method: 'POST', url: '/api/v1/products', payload })).statusCode, 401)
  const customer = await app.inject({ method: 'POST', url: '/api/v1/products', headers: customerHeaders(), payload })
  t.equal(customer.statusCode, 403)
  t.equal(customer.json().code, 'PRD_FORBIDDEN')
  t.equal((await app.inject({ method: 'DELETE', url: '/api/v1/products/beanie', headers: customerHeaders() })).statusCode, 403)
  const usd = await app.inject({
    method: 'POST',
    url: '/api/v1/products',
    headers: adminHeaders(),
    payload: { ...payload, price: { amount: 100, currency: 'USD' } }
  })
  t.equal(usd.json().code, 'PRD_WRONG_CURRENCY')
  const unknown = await app.inject({
    method: 'POST',
    url: '/api/v1/products',
    headers: adminHeaders(),
    payload: { ...payload, category: 'garden' }
  })
  t.equal(unknown.json().code, 'PRD_CATEGORY_NOT_FOUND')
  t.equal((await app.inject('/api/v1/products/beanie')).json().stock, 85, 'nothing changed')
})

t.test('a caller without a token is refused before the body is looked at', async (t) => {
  const { app } = await build(t)
  const res = await app.inject({ method: 'POST', url: '/api/v1/products', payload: {} })
  t.equal(res.statusCode, 401, 'not a 400 that would describe the API to a stranger')
  t.equal(res.json().code, 'PRD_UNAUTHENTICATED')
})
