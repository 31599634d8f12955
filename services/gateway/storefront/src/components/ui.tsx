import type { ComponentChildren } from 'preact'
import type { Money, ProductSummary } from '../api/types.js'
import { formatMoney } from '../money.js'
import { Link } from '../router.js'
import { pathTo } from '../routes.js'

/** An error for the shopper: announced to screen readers, with a way to try again when there is one. */
export function ErrorNote(props: { message: string | undefined; onRetry?: (() => void) | undefined }) {
  if (props.message === undefined) return null
  return (
    <div class="note note-error" role="alert">
      <p>{props.message}</p>
      {props.onRetry === undefined ? null : (
        <button type="button" class="button button-quiet" onClick={props.onRetry}>
          Try again
        </button>
      )}
    </div>
  )
}

export function Loading(props: { label?: string }) {
  return (
    <p class="loading" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" />
      {props.label ?? 'Loading…'}
    </p>
  )
}

export function Price(props: { money: Money; class?: string }) {
  return <span class={props.class ?? 'price'}>{formatMoney(props.money)}</span>
}

/** "In stock", "Only 3 left", "Out of stock". */
export function StockState(props: { stock: number }) {
  if (props.stock <= 0) return <span class="stock stock-out">Out of stock</span>
  if (props.stock <= 5) return <span class="stock stock-low">Only {props.stock} left</span>
  return <span class="stock stock-in">In stock</span>
}

const PALETTES = 6

function paletteOf(text: string): number {
  let hash = 0
  for (const char of text) hash = (hash * 31 + (char.codePointAt(0) ?? 0)) >>> 0
  return hash % PALETTES
}

function initials(name: string): string {
  const words = name.split(/\s+/).filter((word) => /^[\p{L}\p{N}]/u.test(word))
  return words
    .slice(0, 2)
    .map((word) => [...word][0]?.toUpperCase() ?? '')
    .join('')
}

/** The product's first image, or a drawn tile in its category's colours when it has none. */
export function ProductArt(props: { product: Pick<ProductSummary, 'name' | 'category' | 'images'>; size?: 'small' | 'large' }) {
  const size = props.size ?? 'small'
  const image = props.product.images[0]
  if (image !== undefined) {
    return <img class={`art art-${size}`} src={image} alt={props.product.name} loading="lazy" decoding="async" />
  }
  return (
    <div class={`art art-${size} art-drawn palette-${paletteOf(props.product.category)}`} role="img" aria-label={props.product.name}>
      <span aria-hidden="true">{initials(props.product.name)}</span>
    </div>
  )
}

export function ProductCard(props: { product: ProductSummary; note?: string }) {
  const { product } = props
  return (
    <li class="card">
      <Link href={pathTo('product', { id: product.id })} class="card-link">
        <ProductArt product={product} />
        <span class="card-name">{product.name}</span>
      </Link>
      <span class="card-meta">
        <Price money={product.price} />
        <StockState stock={product.stock} />
      </span>
      {props.note === undefined ? null : <span class="card-note">{props.note}</span>}
    </li>
  )
}

export function ProductGrid(props: { children: ComponentChildren; label: string }) {
  return (
    <ul class="grid" aria-label={props.label}>
      {props.children}
    </ul>
  )
}

/** The order's reference as its emails print it. */
export function orderNumber(id: string): string {
  return id.slice(0, 8).toUpperCase()
}

export function dateText(iso: string): string {
  return new Date(iso).toLocaleString(navigator.language || 'en', { dateStyle: 'medium', timeStyle: 'short' })
}

export const STATUS_TEXT: Record<string, string> = {
  PENDING: 'Pending',
  CONFIRMED: 'Confirmed',
  PAID: 'Paid',
  SHIPPED: 'Shipped',
  DELIVERED: 'Delivered',
  CANCELLED: 'Cancelled'
}

export function StatusBadge(props: { status: string }) {
  return <span class={`badge badge-${props.status.toLowerCase()}`}>{STATUS_TEXT[props.status] ?? props.status}</span>
}
