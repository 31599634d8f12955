import type { Catalog } from '../domain/catalog.js'
import type { ProductRepository } from '../repositories/products.js'
import { DEMO_CATALOG } from './catalog.js'

/**
 * Loads the demo catalog. Idempotent: what exists (by id) is left as it is, including stock
 * that orders have since taken, so it is safe at every start.
 */
export async function seedDemoCatalog(
  products: ProductRepository,
  catalog: Catalog,
  currency: string
): Promise<{ categories: number; products: number }> {
  let addedCategories = 0
  let addedProducts = 0
  for (const category of DEMO_CATALOG) {
    try {
      const inserted = await products.categories.updateOne(
        { _id: category.id },
        { $setOnInsert: { name: category.name, description: category.description } },
        { upsert: true }
      )
      addedCategories += inserted.upsertedCount
    } catch (error) {
      // Two replicas starting together both upsert: the one that loses the insert gets a
      // duplicate key, which means the category is there.
      if ((error as { code?: number }).code !== 11000) throw error
    }
  }
  // Creation times one second apart, in catalog order, so "newest" is a stable order.
  let createdAt = Date.UTC(2026, 0, 1)
  for (const category of DEMO_CATALOG) {
    for (const product of category.products) {
      createdAt += 1000
      if ((await products.products.countDocuments({ _id: product.id }, { limit: 1 })) > 0) continue
      try {
        const created = await catalog.create(
          {
            name: product.name,
            description: product.description,
            category: category.id,
            price: { amount: product.price, currency },
            stock: product.stock,
            attributes: product.attributes
          },
          product.id
        )
        await products.products.updateOne(
          { _id: created._id },
          { $set: { createdAt: new Date(createdAt), updatedAt: new Date(createdAt) } }
        )
        addedProducts++
      } catch (error) {
        if ((error as { code?: number }).code !== 11000) throw error // another replica seeded it first
      }
    }
  }
  return { categories: addedCategories, products: addedProducts }
}
