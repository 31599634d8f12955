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

t.test("an admin's stock change cannot undo a reservation made meanwhile on another replica", async (t) => {
  const replicaA = await build(t)
  const db = replicaA.products.products.db
  const replicaB = await build(t, { db })
  const created = (await replicaA.app.inject({ method: 'POST', url: '/api/v1/products', headers: adminHeaders(), payload })).json()
  const stockOf = async () => (await replicaA.products.findById(created.id))?.stock
  const patch = (body: object) =>
    replicaA.app.inject({ method: 'PATCH', url: `/api/v1/products/${created.id}`, headers: adminHeaders(), payload: body })

  // The admin's page shows 12; meanwhile an order on replica B holds 3.
  await replicaB.inventory.reserve('order-1', [{ productId: created.id, quantity: 3 }])
  const stale = await patch({ stock: 20, expectedStock: 12 })
  t.equal(stale.statusCode, 409)
  t.match(stale.json(), { code: 'PRD_STOCK_CHANGED', detail: /now 9, not 12/ })
  t.equal(await stockOf(), 9, 'nothing written: the reservation still counts')
  t.equal((await patch({ stock: 20, expectedStock: 9 })).json().stock, 20, 'with the stock as it is now, the write goes through')

  // An adjustment adds to whatever the stock is, whichever replica took units first.
  await replicaB.inventory.reserve('order-2', [{ productId: created.id, quantity: 5 }])
  t.equal((await patch({ stockAdjustment: 10 })).json().stock, 25, '20 − 5 held + 10 received')
  const below = await patch({ stockAdjustment: -26 })
  t.equal(below.statusCode, 409)
  t.equal(below.json().code, 'PRD_STOCK_OUT_OF_RANGE')
  t.equal(await stockOf(), 25, 'an adjustment below zero changes nothing')
  for (const body of [{ stock: 3, stockAdjustment: 1 }, { expectedStock: 3 }, { stockAdjustment: 1, expectedStock: 25 }]) {
    const unclear = await patch(body)
    t.equal(unclear.statusCode, 400, JSON.stringify(body))
    t.equal(unclear.json().code, 'PRD_STOCK_CHANGE_UNCLEAR')
  }
  t.equal(await stockOf(), 25)

  // Released stock comes back on top of the adjustments: nothing is lost or made up.
  t.ok(await replicaB.inventory.release('order-1'))
  t.ok(await replicaB.inventory.release('order-2'))
  t.equal(await stockOf(), 33, '25 + 3 + 5')
})

t.test('adjustments and reservations at the same time on one replica add up exactly', async (t) => {
  const { app, inventory, products } = await build(t)
  const created = (
    await app.inject({ method: 'POST', url: '/api/v1/products', headers: adminHeaders(), payload: { ...payload, stock: 50 } })
  ).json()
  const outcomes = await Promise.all([
    ...Array.from({ length: 20 }, (_, i) =>
      inventory.reserve(`order-${i}`, [{ productId: created.id, quantity: 1 }]).then(() => 'reserved')
    ),
    ...Array.from({ length: 10 }, () =>
      app
        .inject({ method: 'PATCH', url: `/api/v1/products/${created.id}`, headers: adminHeaders(), payload: { stockAdjustment: 2 } })
        .then((answer) => String(answer.statusCode))
    )
  ])
  t.same(outcomes.sort(), [...Array(10).fill('200'), ...Array(20).fill('reserved')].sort(), 'every reservation and adjustment succeeded')
  t.equal((await products.findById(created.id))?.stock, 50 - 20 + 20, 'none lost')
})
