import { randomUUID } from 'node:crypto'
import { errors } from '../errors.js'
import { type ProductDocument, ProductRepository } from '../repositories/products.js'
import { imageUrl } from './images.js'
import type { Inventory } from './inventory.js'

export interface ProductInput {
  name: string
  description: string
  category: string
  price: { amount: number; currency: string }
  stock: number
  images?: string[] | undefined
  attributes?: Record<string, string> | undefined
}

/** The most units of a product the catalog holds (as the API's schemas say). */
const MAX_STOCK = 1_000_000

/** An admin's change: any product fields, and the stock as a conditional write or an adjustment. */
export type ProductChanges = Partial<ProductInput> & { expectedStock?: number; stockAdjustment?: number }

/** What clients see of a product: the document without its search fields, dates as RFC 3339. */
export type PublicProduct = Omit<ProductDocument, '_id' | 'keywords' | 'nameSort' | 'createdAt' | 'updatedAt'> & {
  id: string
  createdAt: string
  updatedAt: string
}

export function toPublicProduct(product: ProductDocument): PublicProduct {
  return {
    id: product._id,
    name: product.name,
    description: product.description,
    category: product.category,
    price: product.price,
    stock: product.stock,
    images: product.images,
    attributes: product.attributes,
    createdAt: product.createdAt.toISOString(),
    updatedAt: product.updatedAt.toISOString()
  }
}

/** The admin side of the catalog: every write checks the category and the catalog currency. */
export class Catalog {
  readonly #repository: ProductRepository
  readonly #inventory: Inventory
  readonly #currency: string

  constructor(repository: ProductRepository, inventory: Inventory, currency: string) {
    this.#repository = repository
    this.#inventory = inventory
    this.#currency = currency
  }

  async create(input: ProductInput, id: string = randomUUID()): Promise<ProductDocument> {
    await this.#check(input)
    const now = new Date()
    const attributes = input.attributes ?? {}
    const product: ProductDocument = {
      _id: id,
      name: input.name.trim(),
      description: input.description.trim(),
      category: input.category,
      price: input.price,
      stock: input.stock,
      images: input.images ?? [imageUrl(id)],
      attributes,
      ...ProductRepository.derived({
        name: input.name.trim(),
        description: input.description.trim(),
        category: input.category,
        attributes
      }),
      createdAt: now,
      updatedAt: now
    }
    await this.#repository.products.insertOne(product)
    return product
  }

  /**
   * Changes a product. Stock is what orders take from concurrently, so an admin's change of it is
   * one atomic write that cannot undo a reservation made meanwhile (on any replica): either an
   * adjustment (`stockAdjustment`, added to whatever the stock is now) or a new value on the
   * condition that the stock is still what the admin saw (`expectedStock`). A plain `stock`
   * overwrites, as it always did.
   */
  async update(id: string, changes: ProductChanges): Promise<ProductDocument> {
    await this.#check(changes)
    const { stockAdjustment, expectedStock } = changes
    if (stockAdjustment !== undefined && (changes.stock !== undefined || expectedStock !== undefined)) {
      throw errors.STOCK_CHANGE_UNCLEAR('Give either stockAdjustment, or stock (with expectedStock if you like), not both.')
    }
    if (expectedStock !== undefined && changes.stock === undefined) {
      throw errors.STOCK_CHANGE_UNCLEAR('expectedStock is the condition of a stock write: give the new stock too.')
    }
    return await this.#inventory.withProductLock(id, async () => {
      const current = await this.#repository.findById(id)
      if (current === null) throw errors.PRODUCT_NOT_FOUND()
      const next = {
        name: changes.name?.trim() ?? current.name,
        description: changes.description?.trim() ?? current.description,
        category: changes.category ?? current.category,
        attributes: changes.attributes ?? current.attributes
      }
      const stockCondition =
        expectedStock !== undefined
          ? { stock: expectedStock }
          : stockAdjustment !== undefined
            ? { stock: { $gte: -stockAdjustment, $lte: MAX_STOCK - stockAdjustment } }
            : {}
      const updated = await this.#repository.products.findOneAndUpdate(
        { _id: id, ...stockCondition },
        {
          $set: {
            ...next,
            ...(changes.price === undefined ? {} : { price: changes.price }),
            ...(changes.stock === undefined ? {} : { stock: changes.stock }),
            ...(changes.images === undefined ? {} : { images: changes.images }),
            ...ProductRepository.derived(next),
            updatedAt: new Date()
          },
          ...(stockAdjustment === undefined ? {} : { $inc: { stock: stockAdjustment } })
        },
        { returnDocument: 'after', includeResultMetadata: false }
      )
      if (updated !== null) return updated
      const now = await this.#repository.findById(id)
      if (now === null) throw errors.PRODUCT_NOT_FOUND()
      if (expectedStock !== undefined) {
        throw errors.STOCK_CHANGED(`The stock is now ${now.stock}, not ${expectedStock}: orders have changed it; nothing was saved.`)
      }
      throw errors.STOCK_OUT_OF_RANGE(
        `The stock is ${now.stock}: adjusting it by ${stockAdjustment} would leave 0 to ${MAX_STOCK}; nothing was saved.`
      )
    })
  }

  async remove(id: string): Promise<void> {
    const result = await this.#inventory.withProductLock(id, () => this.#repository.products.deleteOne({ _id: id }))
    if (result.deletedCount === 0) throw errors.PRODUCT_NOT_FOUND()
  }

  async #check(input: Partial<ProductInput>): Promise<void> {
    if (input.price !== undefined && input.price.currency !== this.#currency) {
      throw errors.WRONG_CURRENCY(`Prices in this catalog are in ${this.#currency}.`)
    }
    if (input.category !== undefined && !(await this.#repository.categoryExists(input.category))) {
      throw errors.CATEGORY_NOT_FOUND(`There is no category "${input.category}".`)
    }
  }
}
