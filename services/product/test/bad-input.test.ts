import t from 'tap'
import { adminHeaders, build } from './helper.js'

t.test('bad input on every route is a 400 problem and changes nothing', async (t) => {
  const { app, products } = await build(t)
  const snapshot = async () => JSON.stringify(await products.products.find().sort({ _id: 1 }).toArray())
  const before = await snapshot()
  const valid = { name: 'Cup', description: 'A cup.', category: 'kitchen', price: { amount: 500, currency: 'EUR' }, stock: 3 }
  const huge = 'x'.repeat(5000)
  const cases: Array<{ name: string; method: 'GET' | 'POST' | 'PATCH' | 'DELETE'; url: string; payload?: unknown }> = [
    { name: 'list: negative limit', method: 'GET', url: '/api/v1/products?limit=-5' },
    { name: 'list: limit not a number', method: 'GET', url: '/api/v1/products?limit=ten' },
    { name: 'list: negative price', method: 'GET', url: '/api/v1/products?minPrice=-1' },
    { name: 'list: min above max', method: 'GET', url: '/api/v1/products?minPrice=500&maxPrice=100' },
    { name: 'list: unknown sort', method: 'GET', url: '/api/v1/products?sort=random' },
    { name: 'list: relevance without q', method: 'GET', url: '/api/v1/products?sort=relevance' },
    { name: 'list: huge q', method: 'GET', url: `/api/v1/products?q=${huge}` },
    { name: 'list: unknown parameter', method: 'GET', url: '/api/v1/products?debug=1' },
    { name: 'list: forged cursor', method: 'GET', url: '/api/v1/products?cursor=eyJ4IjoxfQ' },
    {
      name: 'list: cursor of another sort',
      method: 'GET',
      url: `/api/v1/products?sort=name&cursor=${Buffer.from(JSON.stringify(['price_asc', 1, 'a'])).toString('base64url')}`
    },
    {
      name: 'list: cursor key of the wrong type',
      method: 'GET',
      url: `/api/v1/products?sort=price_asc&cursor=${Buffer.from(JSON.stringify(['price_asc', 'x', 'a'])).toString('base64url')}`
    },
    {
      name: 'list: cursor date that is not one',
      method: 'GET',
      url: `/api/v1/products?sort=newest&cursor=${Buffer.from(JSON.stringify(['newest', 'soon', 'a'])).toString('base64url')}`
    },
    { name: 'get: malformed id', method: 'GET', url: '/api/v1/products/..%2F..%2Fetc' },
    {
      name: 'create: negative price',
      method: 'POST',
      url: '/api/v1/products',
      payload: { ...valid, price: { amount: -1, currency: 'EUR' } }
    },
    {
      name: 'create: fractional price',
      method: 'POST',
      url: '/api/v1/products',
      payload: { ...valid, price: { amount: 4.99, currency: 'EUR' } }
    },
    {
      name: 'create: price as string',
      method: 'POST',
      url: '/api/v1/products',
      payload: { ...valid, price: { amount: '500', currency: 'EUR' } }
    },
    {
      name: 'create: lowercase currency',
      method: 'POST',
      url: '/api/v1/products',
      payload: { ...valid, price: { amount: 500, currency: 'eur' } }
    },
    { name: 'create: negative stock', method: 'POST', url: '/api/v1/products', payload: { ...valid, stock: -1 } },
    { name: 'create: huge name', method: 'POST', url: '/api/v1/products', payload: { ...valid, name: huge } },
    { name: 'create: unknown field', method: 'POST', url: '/api/v1/products', payload: { ...valid, featured: true } },
    { name: 'create: missing name', method: 'POST', url: '/api/v1/products', payload: { ...valid, name: undefined } },
    { name: 'create: script image', method: 'POST', url: '/api/v1/products', payload: { ...valid, images: ['javascript:alert(1)'] } },
    {
      name: 'create: too many attributes',
      method: 'POST',
      url: '/api/v1/products',
      payload: { ...valid, attributes: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`a${i}`, 'v'])) }
    },
    // MongoDB refuses such field names: they must be refused as input, not fail the write (a 500).
    ...['a\u0000b', '$where', 'a.b', '9lives'].map((key) => ({
      name: `create: attribute key ${JSON.stringify(key)}`,
      method: 'POST' as const,
      url: '/api/v1/products',
      payload: { ...valid, attributes: { [key]: 'v' } }
    })),
    { name: 'patch: attribute key with $', method: 'PATCH', url: '/api/v1/products/beanie', payload: { attributes: { $set: 'v' } } },
    { name: 'patch: empty', method: 'PATCH', url: '/api/v1/products/beanie', payload: {} },
    { name: 'patch: wrong type', method: 'PATCH', url: '/api/v1/products/beanie', payload: { stock: 'many' } },
    { name: 'patch: malformed id', method: 'PATCH', url: '/api/v1/products/bad%20id', payload: { stock: 1 } },
    { name: 'delete: malformed id', method: 'DELETE', url: '/api/v1/products/%24where' },
    { name: 'image: not an svg name', method: 'GET', url: '/images/products/beanie.png' }
  ]
  for (const c of cases) {
    const res = await app.inject({
      method: c.method,
      url: c.url,
      headers: adminHeaders(),
      ...(c.payload === undefined ? {} : { payload: c.payload as object })
    })
    t.equal(res.statusCode, 400, c.name)
    t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8', c.name)
    t.match(res.json().code, /^PRD_/, c.name)
  }
  t.equal(await snapshot(), before, 'the catalog is unchanged')
})
