import type { ProductCatalogClient } from '@polyshop/downstream'
import { createEvent, fromKafkaMessage, toKafkaMessage } from '@polyshop/events'
import { testLogger } from '@polyshop/testkit'
import t from 'tap'
import { Learner } from '../src/domain/learner.js'
import { RecommendationModel } from '../src/domain/model.js'
import type { PurchaseDocument, Purchases } from '../src/domain/purchases.js'

/** Purchase records in memory, with switches to make reads fail like a MongoDB outage, or never answer. */
function memoryPurchases() {
  const records = new Map<string, PurchaseDocument>()
  const state = { readsFail: false, readsHang: false }
  const read = async function* () {
    if (state.readsFail) throw new Error('MongoServerSelectionError: connection refused')
    if (state.readsHang) await new Promise(() => {})
    yield* records.values()
  }
  const purchases = {
    get: async (id: string) => records.get(id) ?? null,
    recordPlaced: async (p: Omit<PurchaseDocument, 'cancelled' | 'updatedAt'>) => {
      if (!records.has(p._id)) records.set(p._id, { ...p, cancelled: false, updatedAt: new Date() })
    },
    recordCancelled: async () => {},
    changedSince: () => read(),
    placedSince: () => read()
  } as unknown as Purchases
  return { purchases, records, state }
}

const model = () => new RecommendationModel({ halfLifeMs: 7 * 86_400_000, horizonMs: 180 * 86_400_000 })
const created = (orderId: string) => {
  const message = toKafkaMessage(
    createEvent(
      'shop.order.created.v1',
      { orderId, userId: 'u-1', items: [{ productId: 'tea', name: 'Tea', quantity: 1, unitPrice: { amount: 100n, currency: 'EUR' } }] },
      { source: '/polyshop/order', key: orderId }
    )
  )
  // As the consumer receives it: key and value as bytes.
  return fromKafkaMessage({ headers: message.headers, key: Buffer.from(String(message.key)), value: Buffer.from(String(message.value)) })
}

t.test('a failed model read is reported to its caller and leaves no unhandled rejection behind', async (t) => {
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown) => unhandled.push(reason)
  process.on('unhandledRejection', onUnhandled)
  t.teardown(() => process.off('unhandledRejection', onUnhandled))
  const { purchases, state } = memoryPurchases()
  const catalog = { getMany: async () => new Map() } as unknown as ProductCatalogClient
  const learner = new Learner({ purchases, model: model(), catalog, logger: testLogger().logger })
  state.readsFail = true
  await t.rejects(learner.sync(), /connection refused/)
  await t.rejects(learner.sync(), /connection refused/, 'the next read is tried again')
  state.readsFail = false
  await learner.sync()
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.same(unhandled, [])
})

t.test('a catalog outage does not keep an order out of the model: it is learnt without categories', async (t) => {
  const { purchases, records } = memoryPurchases()
  const catalog = {
    getMany: async () => {
      throw new Error('The product service is unavailable')
    }
  } as unknown as ProductCatalogClient
  const m = model()
  const learner = new Learner({ purchases, model: m, catalog, logger: testLogger().logger })
  await learner.handle(created('o-1'))
  t.same(records.get('o-1')?.items, [{ productId: 'tea', quantity: 1, category: null }])
  t.equal(m.orderCount, 1)
})

t.test('a model read that never answers does not stop learning: each event is learnt by its own record', async (t) => {
  const { purchases, state } = memoryPurchases()
  const catalog = { getMany: async () => new Map() } as unknown as ProductCatalogClient
  const m = model()
  const learner = new Learner({ purchases, model: m, catalog, logger: testLogger().logger })
  state.readsHang = true
  void learner.sync().catch(() => undefined)
  await learner.handle(created('o-1'))
  await learner.handle(created('o-2'))
  t.equal(m.orderCount, 2, 'both orders learnt while the read hangs')
})

t.test('an older version of a record, read late, does not undo a newer one', async (t) => {
  const m = model()
  const placedAt = new Date()
  const record = { _id: 'o-1', userId: 'u-1', items: [{ productId: 'tea', quantity: 1, category: null }], placedAt }
  m.apply({ ...record, cancelled: true, updatedAt: new Date(placedAt.getTime() + 2000) })
  m.apply({ ...record, cancelled: false, updatedAt: new Date(placedAt.getTime() + 1000) })
  t.equal(m.orderCount, 0, 'still cancelled')
})
