import type { ComponentChildren } from 'preact'
import { useEffect, useRef, useState } from 'preact/hooks'
import { gql } from '../api/client.js'
import { LOGOUT } from '../api/operations.js'
import { cart, itemCount } from '../cart.js'
import { Link, navigate, useRoute } from '../router.js'
import { pathTo } from '../routes.js'
import { endSession, isAdmin, session } from '../session.js'
import { useStore } from '../store.js'

export async function signOut(): Promise<void> {
  const current = session.get()
  endSession()
  navigate(pathTo('home'))
  // Best effort: the refresh token is forgotten here whatever the API says.
  if (current !== null) await gql(LOGOUT, { refreshToken: current.refreshToken }).catch(() => undefined)
}

function SearchBox() {
  const route = useRoute()
  const [text, setText] = useState(route.page === 'search' ? (route.query.get('q') ?? '') : '')
  useEffect(() => {
    if (route.page === 'search') setText(route.query.get('q') ?? '')
  }, [route])
  const onSubmit = (event: Event) => {
    event.preventDefault()
    const query: Record<string, string | undefined> = route.page === 'search' ? Object.fromEntries(route.query) : {}
    navigate(pathTo('search', {}, { ...query, q: text.trim() }))
  }
  return (
    // biome-ignore lint/a11y/useSemanticElements: a form with role=search is what screen readers announce; <search> is too new for some
    <form class="search" role="search" onSubmit={onSubmit} action="/search">
      <label for="site-search" class="visually-hidden">
        Search products
      </label>
      <input
        id="site-search"
        name="q"
        type="search"
        placeholder="Search coffee, boots, notebooks…"
        value={text}
        onInput={(event) => setText(event.currentTarget.value)}
        maxLength={200}
        autoComplete="off"
      />
      <button type="submit" class="button">
        Search
      </button>
    </form>
  )
}

export function Layout(props: { children: ComponentChildren }) {
  const current = useStore(session)
  const lines = useStore(cart)
  const count = itemCount(lines)
  const route = useRoute()
  const main = useRef<HTMLElement>(null)
  // After client-side navigation, move focus to the new page so keyboard and screen reader users start there.
  const first = useRef(true)
  // Runs on every route change.
  useEffect(() => {
    if (first.current) {
      first.current = false
      return
    }
    main.current?.focus({ preventScroll: true })
  }, [route])
  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="site-header">
        <div class="bar">
          <Link href={pathTo('home')} class="logo" aria-label="polyshop home">
            <span class="logo-mark" aria-hidden="true" />
            polyshop
          </Link>
          <SearchBox />
          <nav aria-label="Account and cart" class="site-nav">
            {current === null ? null : <Link href={pathTo('orders')}>My orders</Link>}
            {isAdmin(current) ? <Link href={pathTo('admin')}>Admin</Link> : null}
            {current === null ? (
              <Link href={pathTo('signIn')}>Sign in</Link>
            ) : (
              <button type="button" class="link-button" onClick={() => void signOut()}>
                Sign out <span class="visually-hidden">{current.user.name}</span>
              </button>
            )}
            <Link href={pathTo('cart')} class="cart-link" aria-label={`Cart, ${count} ${count === 1 ? 'item' : 'items'}`}>
              Cart <span class="cart-count">{count}</span>
            </Link>
          </nav>
        </div>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        {props.children}
      </main>
      <footer class="site-footer">
        <p>
          polyshop — an open-source shop on REST, GraphQL, gRPC and Kafka. <a href="/docs">API docs</a>
        </p>
      </footer>
    </>
  )
}
