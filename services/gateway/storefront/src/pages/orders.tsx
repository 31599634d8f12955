import { useState } from 'preact/hooks'
import { gql } from '../api/client.js'
import { useMutation, usePages, useQuery } from '../api/hooks.js'
import { type OrderUpdate, useOrderUpdates } from '../api/live.js'
import { CANCEL_ORDER, ORDER_DETAIL, ORDERS } from '../api/operations.js'
import type { Order, Page } from '../api/types.js'
import { dateText, ErrorNote, Loading, orderNumber, Price, ProductArt, STATUS_TEXT, StatusBadge } from '../components/ui.js'
import { Link, useRoute, useTitle } from '../router.js'
import { pathTo } from '../routes.js'
import { session } from '../session.js'
import { useStore } from '../store.js'

const PAGE_SIZE = 10
/** The order service allows cancelling until the order ships. */
const CANCELLABLE = new Set(['PENDING', 'CONFIRMED', 'PAID'])

export function SignInFirst(props: { what: string }) {
  const route = useRoute()
  const here = `${location.pathname}${route.query.size > 0 ? `?${route.query}` : ''}`
  return (
    <section class="narrow">
      <h1>Sign in to see {props.what}</h1>
      <p class="actions">
        <Link href={pathTo('signIn', {}, { next: here })} class="button button-primary">
          Sign in
        </Link>
      </p>
    </section>
  )
}

/** Pages of orders, newest first: the caller's, or (admins) everyone's. */
export function useOrderPages(allUsers: boolean) {
  return usePages<Order>(
    async (after) => (await gql<{ orders: Page<Order> }>(ORDERS, { first: PAGE_SIZE, after, allUsers })).orders,
    String(allUsers)
  )
}

/** What the polite live region says when an order changes while the shopper looks at it. */
const announcement = (update: OrderUpdate) => `Order ${orderNumber(update.id)} is now ${STATUS_TEXT[update.status] ?? update.status}.`

/** Announced to screen readers without interrupting them; visible to nobody else (the badge shows it). */
function LiveAnnouncement(props: { text: string }) {
  return (
    <p class="visually-hidden" role="status" aria-live="polite" data-live-announcement>
      {props.text}
    </p>
  )
}

const itemsText = (order: Order) => {
  const count = order.items.reduce((sum, item) => sum + item.quantity, 0)
  return `${count} ${count === 1 ? 'item' : 'items'}`
}

export function OrdersPage() {
  useTitle('My orders')
  const current = useStore(session)
  if (current === null) return <SignInFirst what="your orders" />
  return <OrderList />
}

function OrderList() {
  const pages = useOrderPages(false)
  const [said, setSaid] = useState('')
  useOrderUpdates(
    undefined,
    (update) => {
      const shown = pages.items.find((order) => order.id === update.id)
      // Not on this page, already known, or older than what the page shows.
      if (shown === undefined || shown.status === update.status || shown.updatedAt > update.updatedAt) return
      pages.patch(update.id, { status: update.status, updatedAt: update.updatedAt })
      setSaid(announcement(update))
    },
    pages.refresh
  )
  return (
    <section aria-labelledby="orders-heading">
      <h1 id="orders-heading">My orders</h1>
      <LiveAnnouncement text={said} />
      <ErrorNote message={pages.error} onRetry={pages.retry} />
      {!pages.loading && pages.error === undefined && pages.items.length === 0 ? (
        <p>
          No orders yet. <Link href={pathTo('search')}>Start shopping.</Link>
        </p>
      ) : null}
      <ul class="orders" aria-label="Orders">
        {pages.items.map((order) => (
          <li key={order.id} class="order-row">
            <Link href={pathTo('order', { id: order.id })} class="order-link">
              <span class="order-id">Order {orderNumber(order.id)}</span>
              <span class="order-date">{dateText(order.createdAt)}</span>
            </Link>
            <span>{itemsText(order)}</span>
            <Price money={order.total} />
            <StatusBadge status={order.status} />
          </li>
        ))}
      </ul>
      {pages.loading ? <Loading label="Loading orders…" /> : null}
      {pages.cursor !== null && !pages.loading ? (
        <button type="button" class="button load-more" onClick={pages.more}>
          Older orders
        </button>
      ) : null}
    </section>
  )
}

export function OrderPage(props: { id: string }) {
  useTitle('Order')
  const current = useStore(session)
  if (current === null) return <SignInFirst what="this order" />
  return <OrderDetail id={props.id} />
}

function OrderDetail(props: { id: string }) {
  const route = useRoute()
  const placed = route.query.get('placed') === '1'
  const result = useQuery<{ order: Order }>(ORDER_DETAIL, { id: props.id }, props.id)
  const cancel = useMutation<{ cancelOrder: Order }, { id: string; reason?: string }>(CANCEL_ORDER)
  const [confirming, setConfirming] = useState(false)
  const [order, setOrder] = useState<Order | undefined>(undefined)
  const [said, setSaid] = useState('')
  const shown = order ?? result.data?.order
  useOrderUpdates(
    props.id,
    (update) => {
      if (shown === undefined || shown.status === update.status || shown.updatedAt > update.updatedAt) return
      setOrder({ ...shown, status: update.status, updatedAt: update.updatedAt })
      setSaid(announcement(update))
    },
    () => {
      // What the server says now replaces what this page last knew.
      setOrder(undefined)
      result.reload()
    }
  )
  if (shown === undefined) return result.error === undefined ? <Loading /> : <ErrorNote message={result.error} onRetry={result.reload} />
  const onCancel = async () => {
    const done = await cancel.run({ id: shown.id, reason: 'cancelled by the customer in the storefront' })
    setConfirming(false)
    if (done !== undefined) setOrder(done.cancelOrder)
  }
  const address = shown.shippingAddress
  return (
    <section class="order" aria-labelledby="order-heading">
      {placed ? (
        <div class="note note-success" role="status">
          <h2>Thank you — your order is placed.</h2>
          <p>A confirmation is on its way to your email. Follow the order here and in My orders.</p>
        </div>
      ) : null}
      <h1 id="order-heading">Order {orderNumber(shown.id)}</h1>
      <LiveAnnouncement text={said} />
      <p class="order-meta">
        Placed {dateText(shown.createdAt)} · <StatusBadge status={shown.status} />
      </p>
      <ul class="lines" aria-label="Items in this order">
        {shown.items.map((item) => (
          <li key={item.productId} class="line">
            <ProductArt
              product={{ name: item.name, category: item.product?.category ?? item.productId, images: item.product?.images ?? [] }}
            />
            <div class="line-info">
              <Link href={pathTo('product', { id: item.productId })} class="line-name">
                {item.name}
              </Link>
              <span>
                {item.quantity} × <Price money={item.unitPrice} />
              </span>
            </div>
            <Price money={{ amount: item.unitPrice.amount * item.quantity, currency: item.unitPrice.currency }} class="price line-total" />
          </li>
        ))}
      </ul>
      <p class="total">
        Total <Price money={shown.total} class="price price-total" />
      </p>
      <h2>Shipping to</h2>
      <address>
        {address.name}
        <br />
        {address.line1}
        {address.line2 ? (
          <>
            <br />
            {address.line2}
          </>
        ) : null}
        <br />
        {address.postalCode} {address.city}
        <br />
        {new Intl.DisplayNames([navigator.language || 'en'], { type: 'region' }).of(address.country) ?? address.country}
      </address>
      <ErrorNote message={cancel.error} />
      {CANCELLABLE.has(shown.status) ? (
        confirming ? (
          // biome-ignore lint/a11y/useSemanticElements: a question with two buttons, not form fields: a labelled group, not a fieldset
          <div class="confirm" role="group" aria-label="Confirm cancellation">
            <p>Cancel this order? Its items go back on the shelf.</p>
            <button type="button" class="button button-danger" onClick={() => void onCancel()} disabled={cancel.running}>
              {cancel.running ? 'Cancelling…' : 'Yes, cancel the order'}
            </button>
            <button type="button" class="button" onClick={() => setConfirming(false)}>
              Keep it
            </button>
          </div>
        ) : (
          <button type="button" class="button" onClick={() => setConfirming(true)}>
            Cancel order
          </button>
        )
      ) : null}
      <p>
        <Link href={pathTo('orders')}>All my orders</Link>
      </p>
    </section>
  )
}
