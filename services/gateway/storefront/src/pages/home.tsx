import { useQuery } from '../api/hooks.js'
import { HOME } from '../api/operations.js'
import type { Category, Recommendation } from '../api/types.js'
import { ErrorNote, Loading, ProductCard, ProductGrid } from '../components/ui.js'
import { Link, useTitle } from '../router.js'
import { pathTo } from '../routes.js'
import { session } from '../session.js'
import { useStore } from '../store.js'

export const REASON_TEXT: Record<Recommendation['reason'], string> = {
  BOUGHT_TOGETHER: 'Often bought together',
  POPULAR_IN_YOUR_CATEGORIES: 'Popular in your categories',
  SAME_CATEGORY: 'Popular in this category',
  POPULAR_NOW: 'Popular now',
  NEW_ARRIVAL: 'New arrival'
}

export function HomePage() {
  useTitle('')
  const current = useStore(session)
  // Signed in or not changes the recommendations.
  const home = useQuery<{ categories: Category[]; recommendations: Recommendation[] }>(HOME, { limit: 8 }, current?.user.id ?? 'guest')
  return (
    <>
      <section class="hero">
        <h1>{current === null ? 'Good things, delivered.' : `Welcome back, ${current.user.name}.`}</h1>
        <p>Coffee, kitchen, office, outdoor, apparel and books — picked for you, shipped fast.</p>
        <Link class="button button-primary" href={pathTo('search')}>
          Browse everything
        </Link>
      </section>
      <ErrorNote message={home.error} onRetry={home.reload} />
      {home.loading && home.data === undefined ? <Loading /> : null}
      {home.data === undefined ? null : (
        <>
          <section aria-labelledby="categories-heading">
            <h2 id="categories-heading">Shop by category</h2>
            <ul class="categories">
              {home.data.categories.map((category) => (
                <li key={category.id}>
                  <Link href={pathTo('search', {}, { category: category.id })} class="category">
                    <span class="category-name">{category.name}</span>
                    <span class="category-count">{category.productCount} products</span>
                  </Link>
                </li>
              ))}
            </ul>
          </section>
          <section aria-labelledby="picks-heading">
            <h2 id="picks-heading">{current === null ? 'Popular now' : 'Recommended for you'}</h2>
            {home.data.recommendations.length === 0 ? (
              <p>Nothing to recommend yet — have a look around the catalog.</p>
            ) : (
              <ProductGrid label={current === null ? 'Popular now' : 'Recommended for you'}>
                {home.data.recommendations.map((pick) => (
                  <ProductCard key={pick.product.id} product={pick.product} note={REASON_TEXT[pick.reason]} />
                ))}
              </ProductGrid>
            )}
          </section>
        </>
      )}
    </>
  )
}
