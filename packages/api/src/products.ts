import Type from 'typebox'

export const MAX_PAGE = 100

const Id = Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' })
const CategoryId = Type.String({ pattern: '^[a-z0-9-]{1,40}$' })
const Price = Type.Object(
  { amount: Type.Integer({ minimum: 1, maximum: 100_000_000 }), currency: Type.String({ pattern: '^[A-Z]{3}$' }) },
  { additionalProperties: false }
)
// additionalProperties: a key outside the pattern (a NUL, `$`, `.`) is refused, not stored: the
// pattern alone only describes the keys that match it.
const Attributes = Type.Record(Type.String({ pattern: '^[a-zA-Z][a-zA-Z0-9_-]{0,39}$' }), Type.String({ minLength: 1, maxLength: 100 }), {
  maxProperties: 20,
  additionalProperties: false
})
const Images = Type.Array(Type.String({ pattern: '^(/|https://)[^\\s]{1,500}$' }), { maxItems: 10 })

export const ProductSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    description: Type.String(),
    category: Type.String(),
    price: Type.Object({ amount: Type.Integer(), currency: Type.String() }),
    stock: Type.Integer(),
    images: Type.Array(Type.String()),
    attributes: Type.Record(Type.String(), Type.String()),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' })
  },
  { additionalProperties: false }
)

export const ProductPageSchema = Type.Object(
  { items: Type.Array(ProductSchema), nextCursor: Type.Union([Type.String(), Type.Null()]) },
  { additionalProperties: false }
)

export const CreateProductBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 120, pattern: '\\S' }),
    description: Type.String({ maxLength: 2000 }),
    category: CategoryId,
    price: Price,
    stock: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
    images: Type.Optional(Images),
    attributes: Type.Optional(Attributes)
  },
  { additionalProperties: false }
)

export const UpdateProductBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 120, pattern: '\\S' })),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    category: Type.Optional(CategoryId),
    price: Type.Optional(Price),
    stock: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 1_000_000,
        description: 'The new stock. With expectedStock, only if the stock is still that (409 PRD_STOCK_CHANGED otherwise).'
      })
    ),
    expectedStock: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 1_000_000,
        description:
          'The stock the admin saw, for a `stock` write: if orders have changed it since, nothing is written and 409 says what it is now.'
      })
    ),
    stockAdjustment: Type.Optional(
      Type.Integer({
        minimum: -1_000_000,
        maximum: 1_000_000,
        description:
          'Units to add (or, negative, remove) whatever the stock is now; instead of `stock`. 409 PRD_STOCK_OUT_OF_RANGE if it would go below 0 or above 1,000,000.'
      })
    ),
    images: Type.Optional(Images),
    attributes: Type.Optional(Attributes)
  },
  { additionalProperties: false, minProperties: 1 }
)

export const ProductIdParams = Type.Object({ id: Id }, { additionalProperties: false })

/** The most ids one `ids=` lookup accepts. */
export const MAX_IDS = 100

export const ProductQuery = Type.Object(
  {
    // A batch lookup by id (comma-separated, up to MAX_IDS), for services that show many products at
    // once; it takes no other parameter. Unknown ids are left out of the page.
    ids: Type.Optional(Type.String({ maxLength: 65 * MAX_IDS, pattern: `^[A-Za-z0-9_-]{1,64}(,[A-Za-z0-9_-]{1,64}){0,${MAX_IDS - 1}}$` })),
    q: Type.Optional(Type.String({ maxLength: 200 })),
    category: Type.Optional(CategoryId),
    minPrice: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000_000 })),
    maxPrice: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000_000 })),
    sort: Type.Optional(Type.Union(['relevance', 'newest', 'price_asc', 'price_desc', 'name'].map((s) => Type.Literal(s)))),
    // Larger values are clamped to MAX_PAGE rather than refused.
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
    cursor: Type.Optional(Type.String({ maxLength: 300, pattern: '^[A-Za-z0-9_-]+$' }))
  },
  { additionalProperties: false }
)

export const CategorySchema = Type.Object(
  { id: Type.String(), name: Type.String(), description: Type.String(), productCount: Type.Integer() },
  { additionalProperties: false }
)
