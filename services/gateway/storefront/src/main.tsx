import { render } from 'preact'
import { useEffect, useErrorBoundary } from 'preact/hooks'
import { Layout } from './components/layout.js'
import { SignInPage, SignUpPage } from './pages/account.js'
import { AdminOrdersPage, AdminProductsPage } from './pages/admin.js'
import { CartPage } from './pages/cart.js'
import { CheckoutPage } from './pages/checkout.js'
import { HomePage } from './pages/home.js'
import { OrderPage, OrdersPage } from './pages/orders.js'
import { ProductPage } from './pages/product.js'
import { SearchPage } from './pages/search.js'
import { Link, useRoute, useTitle } from './router.js'
import { pathTo } from './routes.js'
import './styles.css'

function NotFound() {
  useTitle('Not found')
  return (
    <section class="narrow">
      <h1>There is no page here</h1>
      <p>
        <Link href={pathTo('home')}>Go to the shop's front page.</Link>
      </p>
    </section>
  )
}

function Page() {
  const route = useRoute()
  const id = route.params.id ?? ''
  switch (route.page) {
    case 'home':
      return <HomePage />
    case 'search':
      return <SearchPage />
    case 'product':
      return <ProductPage id={id} key={id} />
    case 'cart':
      return <CartPage />
    case 'checkout':
      return <CheckoutPage />
    case 'orders':
      return <OrdersPage />
    case 'order':
      return <OrderPage id={id} key={id} />
    case 'signIn':
      return <SignInPage />
    case 'signUp':
      return <SignUpPage />
    case 'admin':
      return <AdminProductsPage />
    case 'adminOrders':
      return <AdminOrdersPage />
    default:
      return <NotFound />
  }
}

/** A page that fails to draw (a bug of ours) says so and offers a way on, instead of going blank. */
function Guarded() {
  const [error, reset] = useErrorBoundary((caught: unknown) => console.error('storefront page failed', caught))
  const route = useRoute()
  // Another page is another chance.
  useEffect(() => {
    if (error !== undefined) reset()
  }, [route])
  if (error !== undefined) {
    return (
      <section class="narrow" role="alert">
        <h1>This page could not be shown</h1>
        <p>Something went wrong on our side. Your cart and sign-in are kept.</p>
        <p class="actions">
          <button type="button" class="button button-primary" onClick={() => location.reload()}>
            Reload the page
          </button>
          <Link href={pathTo('home')} class="button">
            Go to the front page
          </Link>
        </p>
      </section>
    )
  }
  return <Page />
}

function App() {
  return (
    <Layout>
      <Guarded />
    </Layout>
  )
}

const root = document.getElementById('app') as HTMLElement
// The <noscript> note goes; the app takes its place.
root.textContent = ''
render(<App />, root)
