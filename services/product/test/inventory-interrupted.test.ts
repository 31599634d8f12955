// A reservation cut off between taking stock and recording it: the database goes away right
// after the take (as it did in the chaos run), and even the rollback cannot reach it. When it is
// back, recovery must give exactly those units back — before, they stayed taken for good.
import { testDatabase } from '@polyshop/testkit'
import type { Collection, Db } from 'mongodb'
import t from 'tap'
import { seedDemoCatalog } from '../src/seed/seed.js'
import { build } from './helper.js'

/** The database with a switch: `down` makes every operation of these collections fail like a lost connection. */
function flakyDb(db: Db, state: { down: boolean; dropAtPush: boolean }): Db {
  const failing = (collection: Collection) =>
    new Proxy(collection, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver)
        if (typeof value !== 'function') return value
        return (...args: unknown[]) => {
          const update = args[1] as { $push?: unknown } | undefined
          if (state.dropAtPush && property === 'updateOne' && update?.$push !== undefined) state.down = true
          if (state.down) return Promise.reject(Object.assign(new Error('connection closed'), { name: 'MongoNetworkError' }))
          return value.apply(target, args)
        }
      }
    })
  return new Proxy(db, {
    get(target, property, receiver) {
      if (property === 'collection') {
        return (name: string) => {
          const collection = target.collection(name)
          return name === 'reservations' || name === 'products' ? failing(collection) : collection
        }
      }
      return Reflect.get(target, property, receiver)
    }
  })
}

t.test('units taken just before the database went away are given back once it is back, exactly once', async (t) => {
  const { db } = await testDatabase(t, 'product')
  const state = { down: false, dropAtPush: false }
  const service = await build(t, { db: flakyDb(db, state) })
  await seedDemoCatalog(service.products, service.catalog, 'EUR')
  const stockOf = async (id: string) => (await db.collection<{ _id: string; stock: number }>('products').findOne({ _id: id }))?.stock
  const before = await stockOf('beanie')

  state.dropAtPush = true
  await t.rejects(service.inventory.reserve('order-cut-off', [{ productId: 'beanie', quantity: 3 }]), { name: 'MongoNetworkError' })
  state.dropAtPush = false
  state.down = false
  t.equal(await stockOf('beanie'), (before ?? 0) - 3, 'the take landed; its record did not')
  const reservation = await db.collection('reservations').findOne({ _id: 'order-cut-off' } as never)
  t.same(reservation?.applied, [], 'the reservation does not list it')

  t.equal(await service.inventory.recoverInterrupted(0), 1, 'recovery finds the interrupted reservation')
  t.equal(await stockOf('beanie'), before, 'and the three units are back')
  await service.inventory.recoverInterrupted(0)
  t.equal(await service.inventory.release('order-cut-off'), false, 'a release afterwards gives nothing back')
  t.equal(await stockOf('beanie'), before, 'not twice')
  const product = await db.collection('products').findOne({ _id: 'beanie' } as never)
  t.notOk(product?.taking?.['order-cut-off'] ?? product?.returned?.['order-cut-off'], 'no mark of the order is left on the product')
})
