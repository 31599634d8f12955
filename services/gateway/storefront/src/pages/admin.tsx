import type { ComponentChildren } from 'preact'
import { useState } from 'preact/hooks'
import { gql } from '../api/client.js'
import { useMutation, usePages } from '../api/hooks.js'
import { PRODUCT_STOCK, SEARCH, UPDATE_ORDER_STATUS, UPDATE_PRODUCT } from '../api/operations.js'
import type { Order, OrderStatus, Page, ProductSummary } from '../api/types.js'
import { dateText, ErrorNote, Loading, orderNumber, Price, StatusBadge } from '../components/ui.js'
import { amountText, parseAmount } from '../money.js'
import { Link, useTitle } from '../router.js'
import { pathTo } from '../routes.js'
import { isAdmin, session } from '../session.js'
import { useStore } from '../store.js'
import { SignInFirst, useOrderPages } from './orders.js'

function AdminTabs(props: { active: 'products' | 'orders' }) {
  return (
    <nav class="tabs" aria-label="Admin sections">
      <Link href={pathTo('admin')} aria-current={props.active === 'products' ? 'page' : undefined}>
        Products and stock
      </Link>
      <Link href={pathTo('adminOrders')} aria-current={props.active === 'orders' ? 'page' : undefined}>
        Orders
      </Link>
    </nav>
  )
}

function AdminOnly(props: { children: ComponentChildren }) {
  const current = useStore(session)
  if (current === null) return <SignInFirst what="the admin area" />
  if (!isAdmin(current)) {
    return (
      <section class="narrow">
        <h1>Admins only</h1>
        <p>This area is for the shop's staff. You are signed in as {current.user.email}.</p>
      </section>
    )
  }
  return <>{props.children}</>
}

export function AdminProductsPage() {
  useTitle('Admin · Products')
  return (
    <AdminOnly>
      <h1>Admin</h1>
      <AdminTabs active="products" />
      <ProductEditor />
    </AdminOnly>
  )
}

function ProductEditor() {
  const [q, setQ] = useState('')
  const [search, setSearch] = useState('')
  const pages = usePages<ProductSummary>(async (after) => {
    const filter = search === '' ? { sort: 'NAME' } : { q: search }
    return (await gql<{ products: Page<ProductSummary> }>(SEARCH, { filter, first: 25, after })).products
  }, search)
  return (
    <section aria-labelledby="products-heading">
      <h2 id="products-heading">Products and stock</h2>
      {/* biome-ignore lint/a11y/useSemanticElements: a form with role=search is what screen readers announce; <search> is too new for some */}
      <form
        class="inline-form"
        role="search"
        onSubmit={(event) => {
          event.preventDefault()
          setSearch(q.trim())
        }}
      >
        <label for="admin-search">Find products</label>
        <input id="admin-search" type="search" value={q} onInput={(event) => setQ(event.currentTarget.value)} />
        <button type="submit" class="button">
          Find
        </button>
      </form>
      <ErrorNote message={pages.error} onRetry={pages.retry} />
      <table class="admin-table">
        <caption class="visually-hidden">Products: change a price or the stock, then save the row</caption>
        <thead>
          <tr>
            <th scope="col">Product</th>
            <th scope="col">Price</th>
            <th scope="col">Stock</th>
            <th scope="col">
              <span class="visually-hidden">Save</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {pages.items.map((product) => (
            <ProductRow key={product.id} product={product} />
          ))}
        </tbody>
      </table>
      {pages.loading ? <Loading label="Loading products…" /> : null}
      {pages.cursor !== null && !pages.loading ? (
        <button type="button" class="button load-more" onClick={pages.more}>
          More products
        </button>
      ) : null}
    </section>
  )
}

function ProductRow(props: { product: ProductSummary }) {
  const [product, setProduct] = useState(props.product)
  const [price, setPrice] = useState(amountText(product.price))
  const [stock, setStock] = useState(String(product.stock))
  const [saved, setSaved] = useState(false)
  const [invalid, setInvalid] = useState<string | undefined>(undefined)
  const update = useMutation<{ updateProduct: ProductSummary }, { id: string; input: object }>(UPDATE_PRODUCT)
  const onSubmit = async (event: Event) => {
    event.preventDefault()
    setSaved(false)
    const amount = parseAmount(price, product.price.currency)
    const units = Number(stock)
    if (amount === undefined) return setInvalid(`The price of ${product.name} must be an amount like 12.50.`)
    if (!Number.isInteger(units) || units < 0) return setInvalid(`The stock of ${product.name} must be a whole number, 0 or more.`)
    setInvalid(undefined)
    const input = {
      ...(amount === product.price.amount ? {} : { price: { amount, currency: product.price.currency } }),
      // Only if no order has changed the stock since this page showed it (else PRD_STOCK_CHANGED).
      ...(units === product.stock ? {} : { stock: units, expectedStock: product.stock })
    }
    if (Object.keys(input).length === 0) return setSaved(true)
    const result = await update.run({ id: product.id, input })
    if (result === undefined) {
      // The error says what happened; the row learns the stock as it is now, so saving again
      // (after a look at the new number) is a decision about the current stock.
      const fresh = await gql<{ product: ProductSummary | null }>(PRODUCT_STOCK, { id: product.id }).catch(() => undefined)
      if (fresh?.product) setProduct(fresh.product)
      return
    }
    setProduct(result.updateProduct)
    setPrice(amountText(result.updateProduct.price))
    setStock(String(result.updateProduct.stock))
    setSaved(true)
  }
  const formId = `edit-${product.id}`
  return (
    <tr>
      <th scope="row">
        <Link href={pathTo('product', { id: product.id })}>{product.name}</Link>
        <span class="hint"> · {product.category}</span>
        <ErrorNote message={invalid ?? update.error} />
      </th>
      <td>
        <label for={`${formId}-price`} class="visually-hidden">
          Price of {product.name} ({product.price.currency})
        </label>
        <input
          id={`${formId}-price`}
          form={formId}
          class="short"
          inputMode="decimal"
          value={price}
          onInput={(event) => setPrice(event.currentTarget.value)}
        />
        <span class="hint"> {product.price.currency}</span>
      </td>
      <td>
        <label for={`${formId}-stock`} class="visually-hidden">
          Stock of {product.name}
        </label>
        <input
          id={`${formId}-stock`}
          form={formId}
          class="short"
          type="number"
          min={0}
          value={stock}
          onInput={(event) => setStock(event.currentTarget.value)}
        />
      </td>
      <td>
        <form id={formId} onSubmit={(event) => void onSubmit(event)}>
          <button type="submit" class="button" disabled={update.running}>
            Save <span class="visually-hidden">{product.name}</span>
          </button>
          <span role="status" class="saved">
            {saved ? 'Saved' : ''}
          </span>
        </form>
      </td>
    </tr>
  )
}

const NEXT_STEP: Partial<Record<OrderStatus, 'PAID' | 'SHIPPED' | 'DELIVERED'>> = {
  PENDING: 'PAID',
  CONFIRMED: 'PAID',
  PAID: 'SHIPPED',
  SHIPPED: 'DELIVERED'
}

const STEP_TEXT = { PAID: 'Mark paid', SHIPPED: 'Mark shipped', DELIVERED: 'Mark delivered' } as const

export function AdminOrdersPage() {
  useTitle('Admin · Orders')
  return (
    <AdminOnly>
      <h1>Admin</h1>
      <AdminTabs active="orders" />
      <AllOrders />
    </AdminOnly>
  )
}

function AllOrders() {
  const pages = useOrderPages(true)
  return (
    <section aria-labelledby="all-orders-heading">
      <h2 id="all-orders-heading">Orders</h2>
      <ErrorNote message={pages.error} onRetry={pages.retry} />
      <table class="admin-table">
        <caption class="visually-hidden">Every order, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Order</th>
            <th scope="col">Placed</th>
            <th scope="col">Total</th>
            <th scope="col">Status</th>
            <th scope="col">
              <span class="visually-hidden">Next step</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {pages.items.map((order) => (
            <OrderRow key={order.id} order={order} onChange={pages.replace} />
          ))}
        </tbody>
      </table>
      {pages.loading ? <Loading label="Loading orders…" /> : null}
      {pages.cursor !== null && !pages.loading ? (
        <button type="button" class="button load-more" onClick={pages.more}>
          Older orders
        </button>
      ) : null}
    </section>
  )
}

function OrderRow(props: { order: Order; onChange: (order: Order) => void }) {
  const { order } = props
  const step = NEXT_STEP[order.status]
  const advance = useMutation<{ updateOrderStatus: Order }, { id: string; status: string }>(UPDATE_ORDER_STATUS)
  const onClick = async () => {
    if (step === undefined) return
    const result = await advance.run({ id: order.id, status: step })
    if (result !== undefined) props.onChange(result.updateOrderStatus)
  }
  return (
    <tr>
      <th scope="row">
        <Link href={pathTo('order', { id: order.id })}>{orderNumber(order.id)}</Link>
        <span class="hint"> · {order.shippingAddress.name}</span>
        <ErrorNote message={advance.error} />
      </th>
      <td>{dateText(order.createdAt)}</td>
      <td>
        <Price money={order.total} />
      </td>
      <td>
        <StatusBadge status={order.status} />
      </td>
      <td>
        {step === undefined ? null : (
          <button type="button" class="button" disabled={advance.running} onClick={() => void onClick()}>
            {STEP_TEXT[step]} <span class="visually-hidden">{orderNumber(order.id)}</span>
          </button>
        )}
      </td>
    </tr>
  )
}
