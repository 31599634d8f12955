import { useMemo, useRef, useState } from 'preact/hooks'
import { useMutation } from '../api/hooks.js'
import { PLACE_ORDER } from '../api/operations.js'
import type { Address, Order } from '../api/types.js'
import { cart, clearCart } from '../cart.js'
import { ErrorNote, Price } from '../components/ui.js'
import { formatMoney, totals } from '../money.js'
import { Link, navigate, useTitle } from '../router.js'
import { pathTo } from '../routes.js'
import { session } from '../session.js'
import { persisted, useStore } from '../store.js'
import { EmptyCart, problemsOf, useFreshCart } from './cart.js'

const COUNTRIES = [
  'AT',
  'AU',
  'BE',
  'CA',
  'CH',
  'CZ',
  'DE',
  'DK',
  'ES',
  'FI',
  'FR',
  'GB',
  'GR',
  'HU',
  'IE',
  'IT',
  'JP',
  'LU',
  'NL',
  'NO',
  'NZ',
  'PL',
  'PT',
  'SE',
  'US'
]

const isAddress = (value: unknown): value is Address =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as Address).line1 === 'string' &&
  typeof (value as Address).country === 'string'

/** The last address used, offered again next time (this browser only). */
const lastAddress = persisted<Address | null>('polyshop.address', null, isAddress)

function countryNames(): Array<[string, string]> {
  const names = new Intl.DisplayNames([navigator.language || 'en'], { type: 'region' })
  return COUNTRIES.map((code): [string, string] => [code, names.of(code) ?? code]).sort((a, b) => a[1].localeCompare(b[1]))
}

function defaultCountry(): string {
  const region = (navigator.language || '').split('-')[1]?.toUpperCase()
  return region !== undefined && COUNTRIES.includes(region) ? region : 'DE'
}

/** 128 random bits as hex; crypto.randomUUID exists only on https and localhost. */
function randomKey(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) => byte.toString(16).padStart(2, '0')).join('')
}

export function CheckoutPage() {
  useTitle('Checkout')
  const current = useStore(session)
  const lines = useStore(cart)
  const fresh = useFreshCart()
  const saved = useStore(lastAddress)
  const countries = useMemo(countryNames, [])
  const place = useMutation<{ placeOrder: Order }, object>(PLACE_ORDER)
  // One idempotency key per distinct order: a retry of the same order (after a timeout, a double
  // click) cannot place it twice, while a changed cart or address is a new order.
  const attempt = useRef<{ fingerprint: string; key: string } | undefined>(undefined)
  const [address, setAddress] = useState<Address>(
    () => saved ?? { name: current?.user.name ?? '', line1: '', line2: '', city: '', postalCode: '', country: defaultCountry() }
  )

  if (current === null) {
    return (
      <section class="narrow">
        <h1>Sign in to check out</h1>
        <p>Your cart stays here while you sign in.</p>
        <p class="actions">
          <Link href={pathTo('signIn', {}, { next: pathTo('checkout') })} class="button button-primary">
            Sign in
          </Link>
          <Link href={pathTo('signUp', {}, { next: pathTo('checkout') })} class="button">
            Create an account
          </Link>
        </p>
      </section>
    )
  }
  if (lines.length === 0) return <EmptyCart />
  const problems = problemsOf(lines)
  const field = (name: keyof Address) => ({
    id: `address-${name}`,
    name,
    value: address[name] ?? '',
    onInput: (event: Event) => setAddress({ ...address, [name]: (event.currentTarget as HTMLInputElement).value })
  })

  const onSubmit = async (event: Event) => {
    event.preventDefault()
    if (place.running || problems.length > 0) return
    const shippingAddress = {
      name: address.name.trim(),
      line1: address.line1.trim(),
      ...(address.line2?.trim() ? { line2: address.line2.trim() } : {}),
      city: address.city.trim(),
      postalCode: address.postalCode.trim(),
      country: address.country
    }
    const input = { items: lines.map((line) => ({ productId: line.productId, quantity: line.quantity })), shippingAddress }
    const fingerprint = JSON.stringify(input)
    if (attempt.current?.fingerprint !== fingerprint) attempt.current = { fingerprint, key: randomKey() }
    const result = await place.run({ input, idempotencyKey: attempt.current.key })
    if (result === undefined) return
    lastAddress.set(shippingAddress)
    clearCart()
    navigate(pathTo('order', { id: result.placeOrder.id }, { placed: '1' }), { replace: true })
  }

  return (
    <section aria-labelledby="checkout-heading">
      <h1 id="checkout-heading">Checkout</h1>
      <div class="checkout">
        <form class="address-form" onSubmit={(event) => void onSubmit(event)}>
          <fieldset>
            <legend>Shipping address</legend>
            <label for="address-name">Full name</label>
            <input {...field('name')} required maxLength={100} autoComplete="name" />
            <label for="address-line1">Street and number</label>
            <input {...field('line1')} required maxLength={200} autoComplete="address-line1" />
            <label for="address-line2">Apartment, floor (optional)</label>
            <input {...field('line2')} maxLength={200} autoComplete="address-line2" />
            <div class="row">
              <div>
                <label for="address-postalCode">Postal code</label>
                <input {...field('postalCode')} required maxLength={20} autoComplete="postal-code" />
              </div>
              <div>
                <label for="address-city">City</label>
                <input {...field('city')} required maxLength={100} autoComplete="address-level2" />
              </div>
            </div>
            <label for="address-country">Country</label>
            <select
              id="address-country"
              name="country"
              value={address.country}
              onChange={(event) => setAddress({ ...address, country: event.currentTarget.value })}
              autoComplete="country"
            >
              {countries.map(([code, name]) => (
                <option key={code} value={code}>
                  {name}
                </option>
              ))}
            </select>
          </fieldset>
          <ErrorNote message={place.error ?? fresh} />
          {problems.length === 0 ? null : (
            <ul class="note note-warning" role="status">
              {problems.map((problem) => (
                <li key={problem}>{problem}</li>
              ))}
            </ul>
          )}
          <button type="submit" class="button button-primary" disabled={place.running || problems.length > 0}>
            {place.running ? 'Placing your order…' : `Place order · ${totals(lines).map(formatMoney).join(' + ')}`}
          </button>
        </form>
        <aside class="summary" aria-label="Order summary">
          <h2>Summary</h2>
          <ul class="summary-lines">
            {lines.map((line) => (
              <li key={line.productId}>
                <span>
                  {line.quantity} × {line.name}
                </span>
                <Price money={{ amount: line.price.amount * line.quantity, currency: line.price.currency }} />
              </li>
            ))}
          </ul>
          {totals(lines).map((total) => (
            <p key={total.currency} class="total">
              Total <Price money={total} class="price price-total" />
            </p>
          ))}
          <p class="hint">We email you a confirmation as soon as the order is placed.</p>
        </aside>
      </div>
    </section>
  )
}
