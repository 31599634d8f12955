import { productTypeDefs } from '@polyshop/graphql'

/** The public GraphQL surface of DESIGN.md. Field names are REST's. */
export const typeDefs = /* GraphQL */ `
  ${productTypeDefs}

  type User {
    id: ID!
    email: String!
    name: String!
    phone: String
    roles: [String!]!
    createdAt: String!
  }

  type AuthPayload {
    user: User!
    accessToken: String!
    refreshToken: String!
    "Seconds until the access token expires."
    expiresIn: Int!
  }

  type Category {
    id: ID!
    name: String!
    description: String!
    productCount: Int!
  }

  type ProductPage {
    items: [Product!]!
    "Pass back as after for the next page; null on the last."
    nextCursor: String
  }

  enum ProductSort {
    RELEVANCE
    NEWEST
    PRICE_ASC
    PRICE_DESC
    NAME
  }

  input ProductFilter {
    "Words to search for in name, description, category and attributes."
    q: String
    category: String
    "Minor units."
    minPrice: Int
    maxPrice: Int
    sort: ProductSort
  }

  enum OrderStatus {
    PENDING
    CONFIRMED
    PAID
    SHIPPED
    DELIVERED
    CANCELLED
  }

  type Address {
    name: String!
    line1: String!
    line2: String
    city: String!
    postalCode: String!
    "ISO 3166-1 alpha-2"
    country: String!
  }

  type OrderItem {
    productId: ID!
    "The name when the order was placed."
    name: String!
    quantity: Int!
    "The price when the order was placed."
    unitPrice: Money!
    "The product as it is now; null if it has been removed."
    product: Product
  }

  type Order {
    id: ID!
    userId: ID!
    status: OrderStatus!
    items: [OrderItem!]!
    total: Money!
    shippingAddress: Address!
    createdAt: String!
    updatedAt: String!
  }

  type OrderPage {
    items: [Order!]!
    nextCursor: String
  }

  input RegisterInput {
    email: String!
    password: String!
    name: String!
    "E.164, e.g. +4915123456789"
    phone: String
  }

  input AddressInput {
    name: String!
    line1: String!
    line2: String
    city: String!
    postalCode: String!
    country: String!
  }

  input OrderLineInput {
    productId: ID!
    quantity: Int!
  }

  input MoneyInput {
    amount: Amount!
    "ISO 4217, e.g. EUR"
    currency: String!
  }

  "Only the fields given change."
  input UpdateProductInput {
    name: String
    description: String
    category: String
    price: MoneyInput
    "The new stock; with expectedStock, only if the stock is still that (else PRD_STOCK_CHANGED)."
    stock: Int
    "The stock the admin saw: orders may have changed it since."
    expectedStock: Int
    "Units to add (negative: remove) to whatever the stock is now; instead of stock."
    stockAdjustment: Int
    "Paths on this site (/...) or https:// addresses."
    images: [String!]
  }

  "The steps an admin moves an order through."
  enum OrderStatusStep {
    PAID
    SHIPPED
    DELIVERED
  }

  input PlaceOrderInput {
    items: [OrderLineInput!]!
    shippingAddress: AddressInput!
  }

  type Query {
    "The signed-in user."
    me: User!
    products(filter: ProductFilter, first: Int = 20, after: String): ProductPage!
    "Null if there is no such product."
    product(id: ID!): Product
    categories: [Category!]!
    "The signed-in user's orders, newest first; with allUsers (admins only), every user's."
    orders(first: Int = 20, after: String, allUsers: Boolean = false): OrderPage!
    order(id: ID!): Order!
    "For the signed-in user: personalised; for a guest: popular now."
    recommendations(limit: Int = 10): [Recommendation!]!
    similarProducts(productId: ID!, limit: Int = 10): [Recommendation!]!
  }

  "An order's new status, as it happens."
  type OrderUpdate {
    id: ID!
    "The order's owner."
    userId: ID!
    status: OrderStatus!
    "When the order changed (ISO 8601)."
    updatedAt: String!
  }

  "Over WebSocket at /graphql (graphql-transport-ws); connection_init carries the access token as authorization: Bearer <token>."
  type Subscription {
    "With an id: that order (its owner or an admin). Without: the signed-in user's orders, or every order for an admin."
    orderUpdated(id: ID): OrderUpdate!
  }

  type Mutation {
    register(input: RegisterInput!): AuthPayload!
    login(email: String!, password: String!): AuthPayload!
    "A new token pair; the refresh token given stops working."
    refresh(refreshToken: String!): AuthPayload!
    "Ends the session of this refresh token. True when done."
    logout(refreshToken: String): Boolean!
    "Idempotent on idempotencyKey: a retry with the same key and input returns the same order."
    placeOrder(input: PlaceOrderInput!, idempotencyKey: String!): Order!
    cancelOrder(id: ID!, reason: String): Order!
    "Admins only."
    updateProduct(id: ID!, input: UpdateProductInput!): Product!
    "Admins only: PENDING/CONFIRMED -> PAID -> SHIPPED -> DELIVERED."
    updateOrderStatus(id: ID!, status: OrderStatusStep!): Order!
  }
`
