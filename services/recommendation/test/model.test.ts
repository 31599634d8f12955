import t from 'tap'
import { RecommendationModel } from '../src/domain/model.js'
import type { PurchaseDocument } from '../src/domain/purchases.js'

const DAY = 86_400_000
const now = Date.parse('2026-11-29T12:00:00Z')
const categories: Record<string, string> = {
  tea: 'tea',
  pot: 'tea',
  cup: 'tea',
  mug: 'kitchen',
  knife: 'kitchen',
  book: 'books',
  map: 'books'
}

function purchase(
  id: string,
  userId: string,
  products: string[],
  options: { daysAgo?: number; cancelled?: boolean } = {}
): PurchaseDocument {
  return {
    _id: id,
    userId,
    items: products.map((productId) => ({ productId, quantity: 1, category: categories[productId] ?? null })),
    placedAt: new Date(now - (options.daysAgo ?? 0) * DAY),
    cancelled: options.cancelled ?? false,
    updatedAt: new Date(now)
  }
}

function model() {
  return new RecommendationModel({ halfLifeMs: 7 * DAY, horizonMs: 180 * DAY, now: () => now })
}

t.test('bought together comes first, then popular in the user’s categories, then popular now; never what they own', async (t) => {
  const m = model()
  m.apply(purchase('o1', 'alice', ['tea', 'pot']))
  m.apply(purchase('o2', 'bob', ['tea', 'pot']))
  m.apply(purchase('o3', 'bob', ['tea', 'cup']))
  m.apply(purchase('o4', 'carol', ['book']))
  m.apply(purchase('o5', 'dave', ['book', 'map']))
  m.apply(purchase('o6', 'erin', ['mug']))
  m.apply(purchase('o7', 'frank', ['tea']))

  const forAlice = m.forUser('alice', 10)
  t.same(
    forAlice.map((c) => [c.productId, c.reason]),
    [
      ['cup', 'BOUGHT_TOGETHER'],
      ['book', 'POPULAR_NOW'],
      ['map', 'POPULAR_NOW'],
      ['mug', 'POPULAR_NOW']
    ]
  )
  t.notOk(
    forAlice.some((c) => c.productId === 'tea' || c.productId === 'pot'),
    'what Alice owns is never recommended to her'
  )
  t.equal(forAlice[0]?.score, 1)

  const forFrank = m.forUser('frank', 3)
  t.same(
    forFrank.map((c) => [c.productId, c.reason]),
    [
      ['pot', 'BOUGHT_TOGETHER'],
      ['cup', 'BOUGHT_TOGETHER'],
      ['book', 'POPULAR_NOW']
    ]
  )
  t.ok((forFrank[0]?.score ?? 0) > (forFrank[1]?.score ?? 0), 'pot was bought with tea twice, cup once')

  const guest = m.forUser(undefined, 2)
  t.same(
    guest.map((c) => [c.productId, c.reason]),
    [
      ['tea', 'POPULAR_NOW'],
      ['book', 'POPULAR_NOW']
    ],
    'tea (4 orders), then book and pot (2 each; ties by id)'
  )
})

t.test('popular in your categories fills in where nothing was bought together', async (t) => {
  const m = model()
  m.apply(purchase('o1', 'alice', ['mug']))
  m.apply(purchase('o2', 'bob', ['knife']))
  m.apply(purchase('o3', 'carol', ['knife']))
  m.apply(purchase('o4', 'dave', ['book']))
  m.apply(purchase('o5', 'erin', ['book']))
  m.apply(purchase('o6', 'erin2', ['book']))
  t.same(
    m.forUser('alice', 2).map((c) => [c.productId, c.reason]),
    [
      ['knife', 'POPULAR_IN_YOUR_CATEGORIES'],
      ['book', 'POPULAR_NOW']
    ]
  )
})

t.test('a purchase counts once however often it is applied, and a cancellation takes it back', async (t) => {
  const m = model()
  const order = purchase('o1', 'alice', ['tea', 'pot'])
  m.apply(order)
  m.apply(order)
  m.apply(purchase('o2', 'bob', ['tea', 'cup']))
  m.apply(purchase('o3', 'carol', ['tea', 'cup']))
  t.same(
    m.similarTo('tea', 'tea', 2).map((c) => c.productId),
    ['cup', 'pot'],
    'cup (2 orders) before pot (1 order, applied twice)'
  )
  m.apply({ ...order, cancelled: true })
  m.apply({ ...order, cancelled: true })
  t.same(
    m.similarTo('tea', 'tea', 5).map((c) => [c.productId, c.reason]),
    [['cup', 'BOUGHT_TOGETHER']]
  )
  t.same([...m.owned('alice')], [], 'a cancelled order leaves nothing behind')
  t.equal(m.orderCount, 2)
})

t.test('recent purchases weigh more, and purchases past the horizon are forgotten', async (t) => {
  const m = model()
  m.apply(purchase('o1', 'a', ['book'], { daysAgo: 28 }))
  m.apply(purchase('o2', 'b', ['book'], { daysAgo: 28 }))
  m.apply(purchase('o3', 'c', ['book'], { daysAgo: 28 }))
  m.apply(purchase('o4', 'd', ['mug'], { daysAgo: 0 }))
  const [first, second] = m.popular(2)
  t.equal(first?.productId, 'mug', 'one purchase today outweighs three four half-lives ago')
  t.ok((second?.score ?? 0) > 0.18 && (second?.score ?? 0) < 0.19, `3 × 2^-4 = 0.1875 (got ${second?.score})`)
  m.apply(purchase('old', 'e', ['map'], { daysAgo: 200 }))
  t.notOk(
    m.popular(10).some((c) => c.productId === 'map'),
    'placed before the horizon: never counted'
  )
})
