import { randomUUID } from 'node:crypto'
import { uniqueDatabaseUrl } from '@polyshop/testkit'
import { type Collection, MongoClient } from 'mongodb'
import { alternate, median, ratio } from '../compare.js'
import type { BenchContext, ScenarioReport } from '../context.js'
import { round } from './framework-cost.js'

interface Doc {
  _id: string
  n: number
  stock: number
  pad: string
}

/** Operations per second of `operation`, from `clients` loops for `ms`. */
async function rate(clients: number, ms: number, operation: () => Promise<unknown>): Promise<number> {
  let done = 0
  const until = Date.now() + ms
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (Date.now() < until) {
        await operation()
        done++
      }
    })
  )
  return done / (ms / 1000)
}

/** `size` documents with UUID ids (as the services' own), about 250 bytes each. */
async function fill(collection: Collection<Doc>, size: number): Promise<string[]> {
  const ids = Array.from({ length: size }, () => randomUUID())
  for (let start = 0; start < size; start += 1000) {
    await collection.insertMany(ids.slice(start, start + 1000).map((_id) => ({ _id, n: 0, stock: 1_000_000_000, pad: 'x'.repeat(200) })))
  }
  return ids
}

/**
 * The database the services run on locally (FerretDB as `npm start` and the tests start it, or
 * MONGODB_URL's): point reads, point updates, conditional updates and batch lookups by `_id`, 4
 * clients, on collections of growing size. Each size is measured against the smallest in the
 * same rounds (A B, B A …); the goal is that a big collection is no more than 20 % slower.
 */
export async function databaseScaling(context: BenchContext): Promise<ScenarioReport> {
  const { sizes, seconds } = context.settings.database
  const client = new MongoClient(uniqueDatabaseUrl('bench_database'), { maxPoolSize: 8 })
  await client.connect()
  const db = client.db()
  try {
    const collections: Array<{ size: number; collection: Collection<Doc>; ids: string[] }> = []
    for (const size of sizes) {
      const collection = db.collection<Doc>(`docs_${size}`)
      const started = Date.now()
      const ids = await fill(collection, size)
      context.log(`  ${size} documents inserted in ${((Date.now() - started) / 1000).toFixed(1)} s`)
      collections.push({ size, collection, ids })
    }
    const pick = (ids: string[]) => ids[Math.floor(Math.random() * ids.length)] as string
    type Sized = (typeof collections)[number]
    const measure = (operation: (c: Sized) => Promise<unknown>) => (c: Sized) => () => rate(4, seconds * 1000, () => operation(c))
    // What the services do most: a lookup by id, an update by id, a reservation's conditional
    // decrement, and a batch lookup of a few ids (an order's products).
    const operations = [
      ['findOne({_id})', measure((c) => c.collection.findOne({ _id: pick(c.ids) }))],
      ['updateOne({_id}, {$inc})', measure((c) => c.collection.updateOne({ _id: pick(c.ids) }, { $inc: { n: 1 } }))],
      [
        'updateOne({_id, stock: {$gte}}, {$inc})',
        measure((c) => c.collection.updateOne({ _id: pick(c.ids), stock: { $gte: 1 } }, { $inc: { stock: -1 } }))
      ],
      ['find({_id: {$in: 3 ids}})', measure((c) => c.collection.find({ _id: { $in: [pick(c.ids), pick(c.ids), pick(c.ids)] } }).toArray())]
    ] as const
    const smallest = collections[0] as (typeof collections)[number]
    const report: ScenarioReport = { title: 'Local database: operations by _id as collections grow', ratios: [], numbers: {} }
    for (const [operation, arm] of operations) {
      for (const big of collections.slice(1)) {
        const results = await alternate(Math.min(context.settings.rounds, 3), { small: arm(smallest), big: arm(big) })
        const small = results.small ?? []
        const large = results.big ?? []
        const perRound = large.map((value, i) => value / (small[i] ?? Number.NaN))
        const r = ratio(perRound)
        report.ratios.push({
          name: `${operation} at ${big.size.toLocaleString('en')} ÷ at ${smallest.size} documents`,
          median: round(r.median),
          min: round(r.min),
          max: round(r.max),
          goal: 0.8
        })
        report.numbers[`${operation} per s at ${smallest.size}`] = Math.round(median(small))
        report.numbers[`${operation} per s at ${big.size.toLocaleString('en')}`] = Math.round(median(large))
      }
    }
    return report
  } finally {
    await db.dropDatabase().catch(() => {})
    await client.close()
  }
}
