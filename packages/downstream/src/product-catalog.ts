import { type CategorySchema, MAX_IDS, type ProductPageSchema, type ProductSchema, type UpdateProductBody } from '@polyshop/api'
import type { Static } from 'typebox'
import type { ForwardedHeaders, RestClient } from './rest-client.js'

export type Product = Static<typeof ProductSchema>
export type ProductPage = Static<typeof ProductPageSchema>
export type Category = Static<typeof CategorySchema>

export interface ProductSearch {
  q?: string | undefined
  category?: string | undefined
  minPrice?: number | undefined
  maxPrice?: number | undefined
  sort?: string | undefined
  limit?: number | undefined
  cursor?: string | undefined
}

export type ProductUpdate = Static<typeof UpdateProductBody>

export interface ProductCatalogOptions {
  /** How long a looked-up product is reused; 0 asks the catalog every time (the gateway: an admin's price change shows at once). */
  cacheTtlMs?: number
  /** Bound on cached products. */
  cacheSize?: number
}

/**
 * The product service's catalog, read over REST. `getMany` is the batch lookup behind GraphQL
 * loaders: one call for every product a response needs (more only past 100 ids), optionally
 * cached for a short time, unknown ids answered as absent.
 */
export class ProductCatalogClient {
  readonly #rest: RestClient
  readonly #ttlMs: number
  readonly #maxEntries: number
  readonly #cache = new Map<string, { product: Product | null; expiresAt: number }>()

  constructor(rest: RestClient, options: ProductCatalogOptions = {}) {
    this.#rest = rest
    this.#ttlMs = options.cacheTtlMs ?? 0
    this.#maxEntries = options.cacheSize ?? 10_000
  }

  async getMany(ids: readonly string[], headers?: ForwardedHeaders): Promise<Map<string, Product>> {
    const now = Date.now()
    const found = new Map<string, Product>()
    const missing: string[] = []
    for (const id of new Set(ids)) {
      const cached = this.#cache.get(id)
      if (cached !== undefined && cached.expiresAt > now) {
        if (cached.product !== null) found.set(id, cached.product)
      } else {
        missing.push(id)
      }
    }
    const chunks: string[][] = []
    for (let i = 0; i < missing.length; i += MAX_IDS) chunks.push(missing.slice(i, i + MAX_IDS))
    const pages = await Promise.all(
      chunks.map((chunk) =>
        this.#rest.request<ProductPage>({
          path: '/api/v1/products',
          query: { ids: chunk.join(',') },
          ...(headers === undefined ? {} : { headers })
        })
      )
    )
    for (const page of pages) for (const product of page.items) found.set(product.id, product)
    if (this.#ttlMs > 0) {
      for (const id of missing) this.#remember(id, found.get(id) ?? null, now)
    }
    return found
  }

  search(query: ProductSearch, headers?: ForwardedHeaders): Promise<ProductPage> {
    return this.#rest.request<ProductPage>({ path: '/api/v1/products', query: { ...query }, ...(headers === undefined ? {} : { headers }) })
  }

  categories(headers?: ForwardedHeaders): Promise<Category[]> {
    return this.#rest.request<Category[]>({ path: '/api/v1/categories', ...(headers === undefined ? {} : { headers }) })
  }

  /** An admin's change (the product service checks the forwarded token); forgets any cached copy. */
  async update(id: string, change: ProductUpdate, headers?: ForwardedHeaders): Promise<Product> {
    const product = await this.#rest.request<Product>({
      method: 'PATCH',
      path: `/api/v1/products/${encodeURIComponent(id)}`,
      body: change,
      ...(headers === undefined ? {} : { headers })
    })
    this.#cache.delete(id)
    return product
  }

  #remember(id: string, product: Product | null, now: number): void {
    this.#cache.delete(id)
    if (this.#cache.size >= this.#maxEntries) {
      // Oldest first: a Map iterates in insertion order.
      const oldest = this.#cache.keys().next().value
      if (oldest !== undefined) this.#cache.delete(oldest)
    }
    this.#cache.set(id, { product, expiresAt: now + this.#ttlMs })
  }
}
