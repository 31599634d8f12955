import type { Collection, Db, Filter, Sort } from 'mongodb'
import { keywordsFor, queryWords, relevance } from '../domain/keywords.js'
import { errors } from '../errors.js'

export interface ProductDocument {
  _id: string
  name: string
  description: string
  category: string
  price: { amount: number; currency: string }
  stock: number
  images: string[]
  attributes: Record<string, string>
  /** Search words and prefixes (see domain/keywords.ts). */
  keywords: string[]
  /** Lower-cased name for sorting by name. */
  nameSort: string
  createdAt: Date
  updatedAt: Date
}

export interface CategoryDocument {
  _id: string
  name: string
  description: string
}

export type ProductSort = 'relevance' | 'newest' | 'price_asc' | 'price_desc' | 'name'

export interface ProductQuery {
  q?: string | undefined
  category?: string | undefined
  minPrice?: number | undefined
  maxPrice?: number | undefined
  sort?: ProductSort | undefined
  limit: number
  cursor?: string | undefined
}

/** Keyset position: the sort key of the last item of a page, and its id to break ties. */
interface Cursor {
  sort: ProductSort
  key: string | number
  id: string
}

/** At most this many matches are ranked by relevance in the service. */
const RELEVANCE_CANDIDATES = 2000

// The inventory's per-order marks (taking, returned) are bookkeeping, not the product.
const PROJECTION = { keywords: 0, nameSort: 0, taking: 0, returned: 0 } as const

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.sort, cursor.key, cursor.id])).toString('base64url')
}

function decodeCursor(value: string, sort: ProductSort): Cursor {
  try {
    const [cursorSort, key, id] = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as [ProductSort, string | number, string]
    const keyType = sort === 'newest' || sort === 'name' ? 'string' : 'number'
    if (cursorSort !== sort || typeof id !== 'string' || typeof key !== keyType) throw new Error('mismatch')
    if (sort === 'newest' && Number.isNaN(Date.parse(key as string))) throw new Error('not a date')
    return { sort, key, id }
  } catch {
    throw errors.INVALID_CURSOR('The cursor does not belong to this listing; start again without it.')
  }
}

const ORDERINGS: Record<
  Exclude<ProductSort, 'relevance'>,
  { field: 'createdAt' | 'price.amount' | 'nameSort'; direction: 1 | -1; key: (p: ProductDocument) => string | number }
> = {
  newest: { field: 'createdAt', direction: -1, key: (p) => p.createdAt.toISOString() },
  price_asc: { field: 'price.amount', direction: 1, key: (p) => p.price.amount },
  price_desc: { field: 'price.amount', direction: -1, key: (p) => p.price.amount },
  name: { field: 'nameSort', direction: 1, key: (p) => p.nameSort }
}

export class ProductRepository {
  readonly products: Collection<ProductDocument>
  readonly categories: Collection<CategoryDocument>

  constructor(db: Db) {
    this.products = db.collection<ProductDocument>('products')
    this.categories = db.collection<CategoryDocument>('categories')
  }

  async ensureIndexes(): Promise<void> {
    await this.products.createIndex({ keywords: 1 }, { name: 'search_words' })
    await this.products.createIndex({ category: 1, 'price.amount': 1 }, { name: 'category_price' })
    await this.products.createIndex({ createdAt: -1, _id: -1 }, { name: 'newest' })
    await this.products.createIndex({ 'price.amount': 1, _id: 1 }, { name: 'price' })
    await this.products.createIndex({ nameSort: 1, _id: 1 }, { name: 'name' })
  }

  /** Fills the derived search fields; every write of name, description, category or attributes goes through here. */
  static derived(product: Pick<ProductDocument, 'name' | 'description' | 'category' | 'attributes'>) {
    return { keywords: keywordsFor(product), nameSort: product.name.toLowerCase() }
  }

  findById(id: string): Promise<ProductDocument | null> {
    return this.products.findOne({ _id: id }, { projection: PROJECTION })
  }

  async findByIds(ids: string[]): Promise<ProductDocument[]> {
    // FerretDB v1 does not push `_id: {$in}` down to its storage and scans the collection (9× slower
    // than a lookup by _id, measured in bench/); small batches — what pages and recommendations ask
    // for — are lookups by _id in parallel, which both servers answer from the primary key.
    if (ids.length <= 25) return (await Promise.all(ids.map((id) => this.findById(id)))).filter((p): p is ProductDocument => p !== null)
    return this.products.find({ _id: { $in: ids } }, { projection: PROJECTION }).toArray()
  }

  async search(query: ProductQuery): Promise<{ items: ProductDocument[]; nextCursor: string | null }> {
    const terms = query.q === undefined ? [] : queryWords(query.q)
    // A query of nothing searchable ("a", "!!") matches nothing rather than everything.
    if (query.q !== undefined && query.q.trim() !== '' && terms.length === 0) return { items: [], nextCursor: null }
    const sort: ProductSort = query.sort ?? (terms.length > 0 ? 'relevance' : 'newest')
    if (sort === 'relevance' && terms.length === 0) throw errors.RELEVANCE_NEEDS_QUERY('Sorting by relevance needs a search query (q).')
    const conditions: Filter<ProductDocument>[] = terms.map((term) => ({ keywords: term }))
    if (query.category !== undefined) conditions.push({ category: query.category })
    if (query.minPrice !== undefined) conditions.push({ 'price.amount': { $gte: query.minPrice } })
    if (query.maxPrice !== undefined) conditions.push({ 'price.amount': { $lte: query.maxPrice } })
    const cursor = query.cursor === undefined ? undefined : decodeCursor(query.cursor, sort)

    if (sort === 'relevance') {
      // A fixed candidate set (by id) so every page ranks the same products.
      const candidates = await this.products
        .find(conditions.length > 0 ? { $and: conditions } : {})
        .sort({ _id: 1 })
        .limit(RELEVANCE_CANDIDATES)
        .toArray()
      const ranked = candidates
        .map((product) => ({ product, score: relevance(product, terms) }))
        .sort((a, b) => b.score - a.score || (a.product._id < b.product._id ? -1 : 1))
      const start =
        cursor === undefined
          ? 0
          : ranked.findIndex((r) => r.score < (cursor.key as number) || (r.score === cursor.key && r.product._id > cursor.id))
      const page = start === -1 ? [] : ranked.slice(start, start + query.limit + 1)
      const items = page.slice(0, query.limit)
      const last = items.at(-1)
      return {
        items: items.map((r) => strip(r.product)),
        nextCursor: page.length > query.limit && last !== undefined ? encodeCursor({ sort, key: last.score, id: last.product._id }) : null
      }
    }

    const ordering = ORDERINGS[sort]
    if (cursor !== undefined) {
      const key = ordering.field === 'createdAt' ? new Date(cursor.key as string) : cursor.key
      const beyond = ordering.direction === 1 ? '$gt' : '$lt'
      conditions.push({
        $or: [{ [ordering.field]: { [beyond]: key } }, { [ordering.field]: key, _id: { [beyond]: cursor.id } }]
      } as Filter<ProductDocument>)
    }
    const order: Sort = { [ordering.field]: ordering.direction, _id: ordering.direction }
    const page = await this.products
      .find(conditions.length > 0 ? { $and: conditions } : {}, { projection: { keywords: 0, taking: 0, returned: 0 } })
      .sort(order)
      .limit(query.limit + 1)
      .toArray()
    const items = page.slice(0, query.limit)
    const last = items.at(-1)
    return {
      items: items.map(strip),
      nextCursor: page.length > query.limit && last !== undefined ? encodeCursor({ sort, key: ordering.key(last), id: last._id }) : null
    }
  }

  async listCategories(): Promise<Array<CategoryDocument & { productCount: number }>> {
    const [categories, counts] = await Promise.all([
      this.categories.find().sort({ name: 1 }).toArray(),
      this.products.aggregate<{ _id: string; count: number }>([{ $group: { _id: '$category', count: { $sum: 1 } } }]).toArray()
    ])
    const byCategory = new Map(counts.map((c) => [c._id, c.count]))
    return categories.map((category) => ({ ...category, productCount: byCategory.get(category._id) ?? 0 }))
  }

  async categoryExists(id: string): Promise<boolean> {
    return (await this.categories.countDocuments({ _id: id }, { limit: 1 })) === 1
  }
}

function strip(product: ProductDocument): ProductDocument {
  const { keywords: _keywords, nameSort: _nameSort, ...rest } = product
  return rest as ProductDocument
}
