/**
 * The storefront's pages. The gateway serves index.html at exactly these paths (Fastify's
 * `:param` syntax, which the client router matches too), so a reload or a shared link opens the
 * page, and anything else is still a 404 problem.
 */
export const PAGES = {
  home: '/',
  search: '/search',
  product: '/products/:id',
  cart: '/cart',
  checkout: '/checkout',
  orders: '/orders',
  order: '/orders/:id',
  signIn: '/signin',
  signUp: '/signup',
  admin: '/admin',
  adminOrders: '/admin/orders'
} as const

export type PageName = keyof typeof PAGES

export interface Route {
  page: PageName | 'notFound'
  params: Record<string, string>
  query: URLSearchParams
}

/** The page a path shows, with its `:param` values. */
export function matchRoute(pathname: string, search: string): Route {
  const query = new URLSearchParams(search)
  const parts = pathname.split('/').filter((part) => part !== '')
  for (const [page, pattern] of Object.entries(PAGES) as Array<[PageName, string]>) {
    const expected = pattern.split('/').filter((part) => part !== '')
    if (expected.length !== parts.length) continue
    const params: Record<string, string> = {}
    const matches = expected.every((segment, index) => {
      const actual = parts[index] as string
      if (segment.startsWith(':')) {
        params[segment.slice(1)] = decodeURIComponent(actual)
        return true
      }
      return segment === actual
    })
    if (matches) return { page, params, query }
  }
  return { page: 'notFound', params: {}, query }
}

/** A page's path with its parameters filled in. */
export function pathTo(page: PageName, params: Record<string, string> = {}, query?: Record<string, string | undefined>): string {
  const path = PAGES[page].replace(/:([a-z]+)/g, (_, name: string) => encodeURIComponent(params[name] ?? ''))
  const search = new URLSearchParams()
  for (const [name, value] of Object.entries(query ?? {})) if (value !== undefined && value !== '') search.set(name, value)
  const text = search.toString()
  return text === '' ? path : `${path}?${text}`
}
