import { useState } from 'preact/hooks'
import { useQuery } from '../api/hooks.js'
import { PRODUCT } from '../api/operations.js'
import type { Product, Recommendation } from '../api/types.js'
import { addToCart, cart, MAX_QUANTITY } from '../cart.js'
import { ErrorNote, Loading, Price, ProductArt, ProductCard, ProductGrid, StockState } from '../components/ui.js'
import { Link, useTitle } from '../router.js'
import { pathTo } from '../routes.js'
import { useStore } from '../store.js'
import { REASON_TEXT } from './home.js'

/** "Bought together" when shoppers' orders say so; otherwise the suggestions are only alike. */
function suggestionsTitle(picks: readonly Recommendation[]): string {
  return picks.some((pick) => pick.reason === 'BOUGHT_TOGETHER') ? 'Bought together' : 'You may also like'
}

export function ProductPage(props: { id: string }) {
  const result = useQuery<{ product: Product | null; similarProducts: Recommendation[]; categories: Array<{ id: string; name: string }> }>(
    PRODUCT,
    { id: props.id },
    props.id
  )
  const product = result.data?.product ?? undefined
  useTitle(product?.name ?? (result.data === undefined ? 'Product' : 'Not found'))
  if (result.data === undefined) {
    return result.error === undefined ? <Loading /> : <ErrorNote message={result.error} onRetry={result.reload} />
  }
  if (product === undefined) {
    return (
      <section class="narrow">
        <h1>This product is not in the catalog</h1>
        <p>
          It may have been removed. <Link href={pathTo('search')}>See everything we have.</Link>
        </p>
      </section>
    )
  }
  return (
    <>
      <article class="product" aria-labelledby="product-name">
        <div class="product-gallery">
          <ProductArt product={product} size="large" />
          {product.images.length > 1 ? (
            <ul class="thumbnails" aria-label="More pictures">
              {product.images.slice(1).map((image, index) => (
                <li key={image}>
                  <img src={image} alt={`${product.name}, view ${index + 2}`} loading="lazy" />
                </li>
              ))}
            </ul>
          ) : null}
        </div>
        <div class="product-info">
          <p class="crumb">
            <Link href={pathTo('search', {}, { category: product.category })}>
              {result.data.categories.find((category) => category.id === product.category)?.name ?? product.category}
            </Link>
          </p>
          <h1 id="product-name">{product.name}</h1>
          <p class="product-price">
            <Price money={product.price} />
          </p>
          <StockState stock={product.stock} />
          <BuyBox product={product} />
          <p class="description">{product.description}</p>
          {product.attributes.length === 0 ? null : (
            <dl class="attributes">
              {product.attributes.map((attribute) => (
                <div key={attribute.name}>
                  <dt>{attribute.name}</dt>
                  <dd>{attribute.value}</dd>
                </div>
              ))}
            </dl>
          )}
        </div>
      </article>
      {result.data.similarProducts.length === 0 ? null : (
        <section aria-labelledby="together-heading">
          <h2 id="together-heading">{suggestionsTitle(result.data.similarProducts)}</h2>
          <ProductGrid label={suggestionsTitle(result.data.similarProducts)}>
            {result.data.similarProducts.map((pick) => (
              <ProductCard key={pick.product.id} product={pick.product} note={REASON_TEXT[pick.reason]} />
            ))}
          </ProductGrid>
        </section>
      )}
    </>
  )
}

function BuyBox(props: { product: Product }) {
  const { product } = props
  const lines = useStore(cart)
  const inCart = lines.find((line) => line.productId === product.id)?.quantity ?? 0
  const [quantity, setQuantity] = useState(1)
  const [added, setAdded] = useState<number | undefined>(undefined)
  const available = Math.max(0, Math.min(MAX_QUANTITY, product.stock) - inCart)
  if (product.stock <= 0) return <p class="buy-box">Sold out for now — check back soon.</p>
  const onSubmit = (event: Event) => {
    event.preventDefault()
    const count = Math.max(1, Math.min(available, quantity))
    addToCart(product, count)
    setAdded(count)
    setQuantity(1)
  }
  return (
    <form class="buy-box" onSubmit={onSubmit}>
      <label for="quantity">Quantity</label>
      <input
        id="quantity"
        type="number"
        min={1}
        max={Math.max(1, available)}
        value={quantity}
        onInput={(event) => setQuantity(Number(event.currentTarget.value) || 1)}
        disabled={available === 0}
      />
      <button type="submit" class="button button-primary" disabled={available === 0}>
        Add to cart
      </button>
      <p class="buy-status" role="status" aria-live="polite">
        {added === undefined ? null : (
          <>
            Added {added} to your cart. <Link href={pathTo('cart')}>View cart</Link>
          </>
        )}
        {available === 0 && added === undefined ? 'You have all we have in your cart.' : null}
      </p>
    </form>
  )
}
