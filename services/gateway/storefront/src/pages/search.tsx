import { useEffect, useRef } from 'preact/hooks'
import { gql } from '../api/client.js'
import { usePages, useQuery } from '../api/hooks.js'
import { CATEGORIES, SEARCH } from '../api/operations.js'
import type { Category, Page, ProductSummary } from '../api/types.js'
import { ErrorNote, Loading, ProductCard, ProductGrid } from '../components/ui.js'
import { parseAmount } from '../money.js'
import { navigate, useRoute, useTitle } from '../router.js'
import { pathTo } from '../routes.js'

const PAGE_SIZE = 12
/** The catalog's currency (every demo price is in euro); used to read the price filter. */
const CURRENCY = 'EUR'

const SORTS = [
  ['RELEVANCE', 'Best match'],
  ['NEWEST', 'Newest'],
  ['PRICE_ASC', 'Price: low to high'],
  ['PRICE_DESC', 'Price: high to low'],
  ['NAME', 'Name']
] as const

interface Filters {
  q: string
  category: string
  minPrice: string
  maxPrice: string
  sort: string
}

function filtersFrom(query: URLSearchParams): Filters {
  return {
    q: query.get('q') ?? '',
    category: query.get('category') ?? '',
    minPrice: query.get('minPrice') ?? '',
    maxPrice: query.get('maxPrice') ?? '',
    sort: query.get('sort') ?? ''
  }
}

function apiFilter(filters: Filters) {
  const minPrice = parseAmount(filters.minPrice, CURRENCY)
  const maxPrice = parseAmount(filters.maxPrice, CURRENCY)
  return {
    ...(filters.q.trim() === '' ? {} : { q: filters.q.trim() }),
    ...(filters.category === '' ? {} : { category: filters.category }),
    ...(minPrice === undefined ? {} : { minPrice }),
    ...(maxPrice === undefined ? {} : { maxPrice }),
    ...(filters.sort === '' ? {} : { sort: filters.sort })
  }
}

/** The catalog: search words, category, price range and sort in the address (shareable), pages loaded as you scroll. */
export function SearchPage() {
  const route = useRoute()
  const filters = filtersFrom(route.query)
  const key = JSON.stringify(filters)
  const categories = useQuery<{ categories: Category[] }>(CATEGORIES, undefined, 'categories')
  const pages = usePages<ProductSummary>(
    async (after) =>
      (await gql<{ products: Page<ProductSummary> }>(SEARCH, { filter: apiFilter(filters), first: PAGE_SIZE, after })).products,
    key
  )
  const sentinel = useRef<HTMLDivElement>(null)
  const categoryName = categories.data?.categories.find((category) => category.id === filters.category)?.name
  useTitle(filters.q !== '' ? `“${filters.q}”` : (categoryName ?? 'All products'))

  // Infinite loading: the next page when the end of the list comes into view (the button does the same).
  // Observes for the current cursor.
  useEffect(() => {
    const target = sentinel.current
    if (target === null || pages.cursor === null || pages.loading || pages.error !== undefined) return
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) pages.more()
    })
    observer.observe(target)
    return () => observer.disconnect()
  }, [pages.cursor, pages.loading, pages.error])

  const apply = (change: Partial<Filters>) => {
    const next = { ...filters, ...change }
    navigate(pathTo('search', {}, { ...next }), { replace: true })
  }
  const onPrices = (event: Event) => {
    event.preventDefault()
    const form = new FormData(event.currentTarget as HTMLFormElement)
    apply({ minPrice: String(form.get('minPrice') ?? ''), maxPrice: String(form.get('maxPrice') ?? '') })
  }

  return (
    <div class="catalog">
      <aside class="filters" aria-label="Filters">
        <h2 class="visually-hidden">Filters</h2>
        <label for="filter-category">Category</label>
        <select id="filter-category" value={filters.category} onChange={(event) => apply({ category: event.currentTarget.value })}>
          <option value="">All categories</option>
          {(categories.data?.categories ?? []).map((category) => (
            <option key={category.id} value={category.id}>
              {category.name} ({category.productCount})
            </option>
          ))}
        </select>
        <label for="filter-sort">Sort by</label>
        <select id="filter-sort" value={filters.sort} onChange={(event) => apply({ sort: event.currentTarget.value })}>
          <option value="">{filters.q === '' ? 'Newest' : 'Best match'}</option>
          {SORTS.map(([value, text]) => (
            <option key={value} value={value}>
              {text}
            </option>
          ))}
        </select>
        <form class="price-filter" onSubmit={onPrices} key={`${filters.minPrice}-${filters.maxPrice}`}>
          <fieldset>
            <legend>Price (€)</legend>
            <label for="filter-min">From</label>
            <input id="filter-min" name="minPrice" inputMode="decimal" pattern="[0-9]+([.,][0-9]{1,2})?" defaultValue={filters.minPrice} />
            <label for="filter-max">To</label>
            <input id="filter-max" name="maxPrice" inputMode="decimal" pattern="[0-9]+([.,][0-9]{1,2})?" defaultValue={filters.maxPrice} />
          </fieldset>
          <button type="submit" class="button">
            Apply prices
          </button>
        </form>
      </aside>
      <section class="results" aria-labelledby="results-heading">
        <h1 id="results-heading">{filters.q !== '' ? `Results for “${filters.q}”` : (categoryName ?? 'All products')}</h1>
        <ErrorNote message={pages.error} onRetry={pages.retry} />
        {!pages.loading && pages.error === undefined && pages.items.length === 0 ? (
          <p class="empty">No products match. Try fewer words or another category.</p>
        ) : null}
        <ProductGrid label="Products">
          {pages.items.map((product) => (
            <ProductCard key={product.id} product={product} />
          ))}
        </ProductGrid>
        {pages.loading ? <Loading label="Loading products…" /> : null}
        <div ref={sentinel} />
        {pages.cursor !== null && !pages.loading && pages.error === undefined ? (
          <button type="button" class="button load-more" onClick={pages.more}>
            Show more
          </button>
        ) : null}
      </section>
    </div>
  )
}
