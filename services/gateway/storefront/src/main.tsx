import { render } from 'preact'
import { Layout } from './components/layout.js'
import { SignInPage, SignUpPage } from './pages/account.js'
import { AdminOrdersPage, AdminProductsPage } from './pages/admin.js'
import { CartPage } from './pages/cart.js'
import { CheckoutPage } from './pages/checkout.js'
import { HomePage } from './pages/home.js'
import { OrderPage, OrdersPage } from './pages/orders.js'
import { ProductPage } from './pages/product.js'
import { SearchPage } from './pages/search.js'
import { pathTo } from './routes.js'
import { Link, useRoute, useTitle } from './router.js'
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

function App() {
  return (
    <Layout>
      <Page />
    </Layout>
  )
}

const root = document.getElementById('app') as HTMLElement
// The <noscript> note goes; the app takes its place.
root.textContent = ''
render(<App />, root)
