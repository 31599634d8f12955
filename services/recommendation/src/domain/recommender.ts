import type { ForwardedHeaders, Product, ProductCatalogClient } from '@polyshop/downstream'
import { errors } from '../errors.js'
import type { Candidate, RecommendationModel, RecommendationReason } from './model.js'

export interface Recommendation {
  product: Product
  score: number
  reason: RecommendationReason
}

export const MAX_LIMIT = 50

function checkLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw errors.INVALID_LIMIT(`limit must be 1 to ${MAX_LIMIT}.`)
}

/**
 * Turns the model's candidates into recommendations: product details come from the catalog in one
 * batched call per request, products that vanished or sold out are skipped, and when the model
 * knows too little (a new shop, a new product) the rest is filled from the catalog.
 */
export class Recommender {
  readonly #model: RecommendationModel
  readonly #catalog: ProductCatalogClient

  constructor(model: RecommendationModel, catalog: ProductCatalogClient) {
    this.#model = model
    this.#catalog = catalog
  }

  async forUser(userId: string | undefined, limit: number, headers: ForwardedHeaders): Promise<Recommendation[]> {
    checkLimit(limit)
    const chosen = await this.#withProducts(this.#model.forUser(userId, limit * 2 + 5), limit, headers)
    if (chosen.length >= limit) return chosen
    const skip = new Set([...(userId === undefined ? [] : this.#model.owned(userId)), ...chosen.map((r) => r.product.id)])
    const newest = await this.#catalog.search({ sort: 'newest', limit: limit + skip.size }, headers)
    return [...chosen, ...fill(newest.items, skip, 'NEW_ARRIVAL', limit - chosen.length)]
  }

  async similarTo(productId: string, limit: number, headers: ForwardedHeaders): Promise<Recommendation[]> {
    checkLimit(limit)
    const category = this.#model.categoryOf(productId) ?? (await this.#catalog.getMany([productId], headers)).get(productId)?.category
    const chosen = await this.#withProducts(this.#model.similarTo(productId, category, limit * 2 + 5), limit, headers)
    if (chosen.length >= limit || category === undefined) return chosen
    const skip = new Set([productId, ...chosen.map((r) => r.product.id)])
    const inCategory = await this.#catalog.search({ category, sort: 'newest', limit: limit + skip.size }, headers)
    return [...chosen, ...fill(inCategory.items, skip, 'SAME_CATEGORY', limit - chosen.length)]
  }

  async #withProducts(candidates: Candidate[], limit: number, headers: ForwardedHeaders): Promise<Recommendation[]> {
    if (candidates.length === 0) return []
    const products = await this.#catalog.getMany(
      candidates.map((c) => c.productId),
      headers
    )
    const result: Recommendation[] = []
    for (const candidate of candidates) {
      const product = products.get(candidate.productId)
      if (product === undefined || product.stock === 0) continue
      result.push({ product, score: candidate.score, reason: candidate.reason })
      if (result.length === limit) break
    }
    return result
  }
}

/** Catalog products the model knows nothing about: shown after the evidence, with no score. */
function fill(products: Product[], skip: ReadonlySet<string>, reason: RecommendationReason, count: number): Recommendation[] {
  return products
    .filter((product) => !skip.has(product.id) && product.stock > 0)
    .slice(0, count)
    .map((product) => ({ product, score: 0, reason }))
}
