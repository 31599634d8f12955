import type { Money, ProductSummary } from './api/types.js'
import { persisted } from './store.js'

/** What the cart remembers of a product: enough to draw the cart before the catalog answers. */
export interface CartLine {
  productId: string
  name: string
  category: string
  price: Money
  images: string[]
  stock: number
  quantity: number
}

/** The order service's limit per line. */
export const MAX_QUANTITY = 99

function isCart(value: unknown): value is CartLine[] {
  return (
    Array.isArray(value) &&
    value.every(
      (line: Partial<CartLine>) =>
        typeof line?.productId === 'string' &&
        typeof line.name === 'string' &&
        typeof line.quantity === 'number' &&
        typeof line.price?.amount === 'number' &&
        typeof line.price.currency === 'string'
    )
  )
}

const EMPTY: CartLine[] = []

/** The cart, kept in the browser across reloads and shared between tabs. */
export const cart = persisted<CartLine[]>('polyshop.cart', EMPTY, isCart)

const clamp = (quantity: number, stock: number) =>
  Math.max(1, Math.min(MAX_QUANTITY, stock > 0 ? stock : MAX_QUANTITY, Math.floor(quantity)))

export function addToCart(product: ProductSummary, quantity: number): void {
  const lines = cart.get()
  const existing = lines.find((line) => line.productId === product.id)
  const wanted = (existing?.quantity ?? 0) + quantity
  const line: CartLine = {
    productId: product.id,
    name: product.name,
    category: product.category,
    price: product.price,
    images: product.images,
    stock: product.stock,
    quantity: clamp(wanted, product.stock)
  }
  cart.set(existing === undefined ? [...lines, line] : lines.map((other) => (other.productId === product.id ? line : other)))
}

export function setQuantity(productId: string, quantity: number): void {
  cart.set(cart.get().map((line) => (line.productId === productId ? { ...line, quantity: clamp(quantity, line.stock) } : line)))
}

export function removeFromCart(productId: string): void {
  const lines = cart.get().filter((line) => line.productId !== productId)
  cart.set(lines.length === 0 ? EMPTY : lines)
}

/** The catalog's current name, price and stock for each line; lines whose product is gone are dropped. */
export function refreshCart(current: ReadonlyMap<string, ProductSummary | null>): void {
  const lines = cart.get().flatMap((line) => {
    const product = current.get(line.productId)
    if (product === undefined) return [line]
    if (product === null) return []
    return [{ ...line, name: product.name, price: product.price, images: product.images, stock: product.stock, category: product.category }]
  })
  cart.set(lines.length === 0 ? EMPTY : lines)
}

export function clearCart(): void {
  cart.set(EMPTY)
}

export function itemCount(lines: readonly CartLine[]): number {
  return lines.reduce((count, line) => count + line.quantity, 0)
}
