/** The GraphQL shapes the storefront reads (field names are the API's). */
export interface Money {
  amount: number
  currency: string
}

export interface ProductSummary {
  id: string
  name: string
  category: string
  price: Money
  stock: number
  images: string[]
}

export interface Product extends ProductSummary {
  description: string
  attributes: Array<{ name: string; value: string }>
  updatedAt: string
}

export interface Category {
  id: string
  name: string
  description: string
  productCount: number
}

export type RecommendationReason = 'BOUGHT_TOGETHER' | 'POPULAR_IN_YOUR_CATEGORIES' | 'SAME_CATEGORY' | 'POPULAR_NOW' | 'NEW_ARRIVAL'

export interface Recommendation {
  product: ProductSummary
  score: number
  reason: RecommendationReason
}

export interface User {
  id: string
  email: string
  name: string
  phone: string | null
  roles: string[]
}

export interface AuthPayload {
  user: User
  accessToken: string
  refreshToken: string
  expiresIn: number
}

export type OrderStatus = 'PENDING' | 'CONFIRMED' | 'PAID' | 'SHIPPED' | 'DELIVERED' | 'CANCELLED'

export interface Address {
  name: string
  line1: string
  line2?: string | null
  city: string
  postalCode: string
  country: string
}

export interface Order {
  id: string
  userId: string
  status: OrderStatus
  items: Array<{
    productId: string
    name: string
    quantity: number
    unitPrice: Money
    product: { images: string[]; category: string } | null
  }>
  total: Money
  shippingAddress: Address
  createdAt: string
  updatedAt: string
}

export interface Page<T> {
  items: T[]
  nextCursor: string | null
}
