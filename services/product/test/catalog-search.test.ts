import t from 'tap'
import { adminHeaders, build } from './helper.js'

interface Page {
  items: Array<{ id: string; price: { amount: number }; name: string; category: string }>
  nextCursor: string | null
}

async function list(app: Awaited<ReturnType<typeof build>>['app'], query: string): Promise<Page> {
  const res = await app.inject(`/api/v1/products?${query}`)
  if (res.statusCode !== 200) throw new Error(`${query}: ${res.statusCode} ${res.body}`)
  return res.json()
}

async function all(app: Awaited<ReturnType<typeof build>>['app'], query: string, between?: (page: number) => Promise<void>) {
  const ids: string[] = []
  let cursor: string | null = null
  let page = 0
  do {
    const result: Page = await list(app, `${query}${cursor === null ? '' : `&cursor=${cursor}`}`)
    ids.push(...result.items.map((item) => item.id))
    cursor = result.nextCursor
    await between?.(page++)
  } while (cursor !== null)
  return ids
}

t.test('the seeded catalog: six categories of ten', async (t) => {
  const { app } = await build(t)
  const categories = (await app.inject('/api/v1/categories')).json()
  t.equal(categories.length, 6)
  t.ok(categories.every((c: { productCount: number }) => c.productCount === 10))
  t.same(categories.map((c: { id: string }) => c.id).sort(), ['apparel', 'books', 'coffee', 'kitchen', 'office', 'outdoor'])
})

t.test('search ranks name matches first and matches word prefixes', async (t) => {
  const { app } = await build(t)
  t.same(
    (await list(app, 'q=espresso')).items.map((p) => p.id),
    ['espresso-beans-1kg', 'espresso-cup-set', 'burr-grinder']
  )
  t.same(
    (await list(app, 'q=ESPRÉSSO cup')).items.map((p) => p.id),
    ['espresso-cup-set'],
    'case and accents do not matter; every word must match'
  )
  t.same(
    (await list(app, 'q=cera&sort=name')).items.map((p) => p.id),
    ['desk-plant-pot', 'pour-over-dripper'],
    'prefix of ceramic'
  )
  t.same((await list(app, 'q=zzzz')).items, [])
  t.same((await list(app, 'q=a !!')).items, [], 'nothing searchable matches nothing, not everything')
})

t.test('category, price range and sort combine', async (t) => {
  const { app } = await build(t)
  const books = await list(app, 'category=books&maxPrice=2400&sort=price_asc')
  t.same(
    books.items.map((p) => p.id),
    ['night-sky', 'typography-primer', 'tea-ceremony', 'trail-guide-alps']
  )
  const dear = await list(app, 'minPrice=11000&sort=price_desc')
  t.same(
    dear.items.map((p) => [p.id, p.price.amount]),
    [
      ['mechanical-keyboard', 12900],
      ['denim-jacket', 12900],
      ['dutch-oven', 11900]
    ],
    'ties in reverse id order'
  )
  t.same(
    (await list(app, 'category=coffee&sort=name&limit=3')).items.map((p) => p.name),
    ['Ceramic Pour-Over Dripper', 'Chai Spice Blend', 'Cold Brew Bottle']
  )
})

t.test('every sort pages through all 60 products exactly once', async (t) => {
  const { app } = await build(t)
  for (const sort of ['newest', 'price_asc', 'price_desc', 'name']) {
    const ids = await all(app, `sort=${sort}&limit=7`)
    t.equal(ids.length, 60, sort)
    t.equal(new Set(ids).size, 60, `${sort}: no repeats`)
  }
  const newest = await all(app, 'sort=newest&limit=25')
  t.equal(newest[0], 'fermentation', 'the last seeded first')
  t.equal(newest.at(-1), 'espresso-beans-1kg')
  t.same(
    await all(app, 'q=wool&limit=1'),
    (await list(app, 'q=wool&limit=100')).items.map((p) => p.id),
    'relevance pages too'
  )
})

t.test('pagination neither skips nor repeats while products are inserted between pages', async (t) => {
  const { app } = await build(t)
  const original = await all(app, 'sort=price_asc&limit=100')
  let inserted = 0
  const seen = await all(app, 'sort=price_asc&limit=8', async () => {
    for (const amount of [100, 99_000]) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/products',
        headers: adminHeaders(),
        payload: {
          name: `Inserted ${inserted++}`,
          description: 'added while paging',
          category: 'kitchen',
          price: { amount, currency: 'EUR' },
          stock: 1
        }
      })
      t.equal(res.statusCode, 201)
    }
  })
  t.equal(new Set(seen).size, seen.length, 'no product appears twice')
  for (const id of original) t.ok(seen.includes(id), `${id} is not skipped`)
  t.ok(seen.filter((id) => !original.includes(id)).length > 0, 'expensive products inserted ahead of the cursor do appear')
})

t.test('a huge limit is clamped to 100', async (t) => {
  const { app } = await build(t)
  const page = await list(app, 'limit=100000')
  t.equal(page.items.length, 60)
  t.equal(page.nextCursor, null)
})

t.test('seeding again adds nothing and keeps stock that orders took', async (t) => {
  const service = await build(t)
  await service.products.products.updateOne({ _id: 'beanie' }, { $set: { stock: 3 } })
  const { seedDemoCatalog } = await import('../src/seed/seed.js')
  t.same(await seedDemoCatalog(service.products, service.catalog, 'EUR'), { categories: 0, products: 0 })
  t.equal(await service.products.products.countDocuments(), 60)
  t.equal((await service.products.findById('beanie'))?.stock, 3)
})

t.test('replicas seeding an empty database at the same time all start, and the catalog is there once', async (t) => {
  const first = await build(t, { seed: false })
  const replicas = [first, ...(await Promise.all(Array.from({ length: 3 }, () => build(t, { db: first.products.products.db }))))]
  const { seedDemoCatalog } = await import('../src/seed/seed.js')
  const outcomes = await Promise.all(replicas.map((replica) => seedDemoCatalog(replica.products, replica.catalog, 'EUR')))
  t.equal(
    outcomes.reduce((sum, outcome) => sum + outcome.categories, 0),
    6,
    'each category added by exactly one replica'
  )
  t.equal(await first.products.categories.countDocuments(), 6)
  t.equal(await first.products.products.countDocuments(), 60)
})

t.test('ids= looks many products up at once, in the order asked, leaving unknown ids out', async (t) => {
  const { app } = await build(t)
  const page = await list(app, 'ids=beanie,no-such-product,notebook-a5,beanie')
  t.same(
    page.items.map((item) => item.id),
    ['beanie', 'notebook-a5']
  )
  t.equal(page.nextCursor, null)
  const combined = await app.inject('/api/v1/products?ids=beanie&category=apparel')
  t.equal(combined.statusCode, 400)
  t.equal(combined.json().code, 'PRD_IDS_ALONE')
  const tooMany = await app.inject(`/api/v1/products?ids=${Array.from({ length: 101 }, (_, i) => `p${i}`).join(',')}`)
  t.equal(tooMany.statusCode, 400, 'at most 100 ids')
})
