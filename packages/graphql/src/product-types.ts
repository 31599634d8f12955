import { GraphQLError, GraphQLScalarType, Kind } from 'graphql'

/**
 * The catalog's types as every polyshop GraphQL schema spells them (the gateway's and the
 * recommendation service's), so a product looks the same whichever way it arrives. Field names
 * are DESIGN.md's, as in REST.
 */
export const productTypeDefs = /* GraphQL */ `
  "Integer minor units of a currency (cents for EUR): a JSON number, never a float."
  scalar Amount

  type Money {
    amount: Amount!
    "ISO 4217, e.g. EUR"
    currency: String!
  }

  type ProductAttribute {
    name: String!
    value: String!
  }

  type Product {
    id: ID!
    name: String!
    description: String!
    category: String!
    price: Money!
    stock: Int!
    images: [String!]!
    attributes: [ProductAttribute!]!
    "RFC 3339 UTC"
    createdAt: String!
    updatedAt: String!
  }

  enum RecommendationReason {
    "Often bought together with something you bought, or with this product."
    BOUGHT_TOGETHER
    "Popular in the categories you buy from."
    POPULAR_IN_YOUR_CATEGORIES
    "Popular in this product's category."
    SAME_CATEGORY
    "Bought most lately, across the shop."
    POPULAR_NOW
    "New in the catalog (little is known yet)."
    NEW_ARRIVAL
  }

  type Recommendation {
    product: Product!
    "Strength of the evidence within its reason, 0 to 1."
    score: Float!
    reason: RecommendationReason!
  }
`

function safeInteger(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new GraphQLError('an Amount is an integer number of minor units', { extensions: { code: 'BAD_USER_INPUT' } })
  }
  return value
}

export const Amount = new GraphQLScalarType<number, number>({
  name: 'Amount',
  // An amount we cannot send exactly is our failure (INTERNAL), not the client's.
  serialize: (value) => {
    const amount = typeof value === 'bigint' ? Number(value) : value
    if (typeof amount !== 'number' || !Number.isSafeInteger(amount)) throw new Error(`cannot send ${String(value)} exactly as an Amount`)
    return amount
  },
  parseValue: safeInteger,
  parseLiteral: (node) => {
    if (node.kind !== Kind.INT)
      throw new GraphQLError('an Amount is an integer number of minor units', { extensions: { code: 'BAD_USER_INPUT' } })
    return safeInteger(Number(node.value))
  }
})

/** Resolvers of the types above: the catalog's attribute map becomes a list of pairs. */
export const productResolvers = {
  Amount,
  Product: {
    attributes: (product: { attributes?: Record<string, string> | Array<{ name: string; value: string }> }) =>
      Array.isArray(product.attributes)
        ? product.attributes
        : Object.entries(product.attributes ?? {}).map(([name, value]) => ({ name, value }))
  }
}
