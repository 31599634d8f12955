import { useEffect, useState } from 'preact/hooks'
import { gql, messageOf } from '../api/client.js'
import { productsById } from '../api/operations.js'
import type { ProductSummary } from '../api/types.js'
import { type CartLine, cart, MAX_QUANTITY, refreshCart, removeFromCart, setQuantity } from '../cart.js'
import { ErrorNote, Price, ProductArt } from '../components/ui.js'
import { totals } from '../money.js'
import { Link, useTitle } from '../router.js'
import { pathTo } from '../routes.js'
import { useStore } from '../store.js'

/** The gateway's default GRAPHQL_MAX_CALLS. */
const LOOKUPS_PER_REQUEST = 10

/** Brings the cart's names, prices and stock up to date with the catalog; an error is the shopper's to see. */
export function useFreshCart(): string | undefined {
  const [error, setError] = useState<string | undefined>(undefined)
  useEffect(() => {
    const ids = cart.get().map((line) => line.productId)
    if (ids.length === 0) return
    // One request asks for at most LOOKUPS_PER_REQUEST products: the gateway refuses operations
    // that would make more calls to the services than that (GRAPHQL_MAX_CALLS).
    const batches: string[][] = []
    for (let start = 0; start < ids.length; start += LOOKUPS_PER_REQUEST) batches.push(ids.slice(start, start + LOOKUPS_PER_REQUEST))
    Promise.all(
      batches.map(async (batch) => {
        const { query, variables } = productsById(batch)
        const data = await gql<Record<string, ProductSummary | null>>(query, variables)
        return batch.map((id, index) => [id, data[`p${index}`] ?? null] as const)
      })
    ).then(
      (found) => refreshCart(new Map(found.flat())),
      (failure: unknown) => setError(messageOf(failure))
    )
  }, [])
  return error
}

/** Lines the shop cannot fill as they are: sold out, or more than the stock. */
export function problemsOf(lines: readonly CartLine[]): string[] {
  return lines.flatMap((line) => {
    if (line.stock <= 0) return [`${line.name} is sold out — remove it to check out.`]
    if (line.quantity > line.stock) return [`Only ${line.stock} of ${line.name} left — lower the quantity to check out.`]
    return []
  })
}

export function EmptyCart() {
  return (
    <section class="narrow">
      <h1>Your cart is empty</h1>
      <p>
        <Link href={pathTo('search')}>Find something you like.</Link>
      </p>
    </section>
  )
}

export function CartPage() {
  useTitle('Cart')
  const lines = useStore(cart)
  const error = useFreshCart()
  const problems = problemsOf(lines)
  if (lines.length === 0) return <EmptyCart />
  return (
    <section class="cart" aria-labelledby="cart-heading">
      <h1 id="cart-heading">Your cart</h1>
      <ErrorNote message={error} />
      <ul class="lines" aria-label="Items in your cart">
        {lines.map((line) => (
          <CartRow key={line.productId} line={line} />
        ))}
      </ul>
      <div class="summary">
        {totals(lines).map((total) => (
          <p key={total.currency} class="total">
            Total <Price money={total} class="price price-total" />
          </p>
        ))}
        {problems.length === 0 ? null : (
          <ul class="note note-warning" role="status">
            {problems.map((problem) => (
              <li key={problem}>{problem}</li>
            ))}
          </ul>
        )}
        {problems.length === 0 ? (
          <Link href={pathTo('checkout')} class="button button-primary">
            Check out
          </Link>
        ) : null}
      </div>
    </section>
  )
}

function CartRow(props: { line: CartLine }) {
  const { line } = props
  const limit = Math.max(1, Math.min(MAX_QUANTITY, line.stock))
  const inputId = `quantity-${line.productId}`
  return (
    <li class="line">
      <ProductArt product={line} />
      <div class="line-info">
        <Link href={pathTo('product', { id: line.productId })} class="line-name">
          {line.name}
        </Link>
        <Price money={line.price} />
      </div>
      <div class="stepper">
        <button
          type="button"
          class="button button-quiet"
          aria-label={`One fewer ${line.name}`}
          disabled={line.quantity <= 1}
          onClick={() => setQuantity(line.productId, line.quantity - 1)}
        >
          −
        </button>
        <label for={inputId} class="visually-hidden">
          Quantity of {line.name}
        </label>
        <input
          id={inputId}
          type="number"
          min={1}
          max={limit}
          value={line.quantity}
          onChange={(event) => setQuantity(line.productId, Number(event.currentTarget.value) || 1)}
        />
        <button
          type="button"
          class="button button-quiet"
          aria-label={`One more ${line.name}`}
          disabled={line.quantity >= limit}
          onClick={() => setQuantity(line.productId, line.quantity + 1)}
        >
          +
        </button>
      </div>
      <Price money={{ amount: line.price.amount * line.quantity, currency: line.price.currency }} class="price line-total" />
      <button type="button" class="link-button" onClick={() => removeFromCart(line.productId)}>
        Remove <span class="visually-hidden">{line.name}</span>
      </button>
    </li>
  )
}
