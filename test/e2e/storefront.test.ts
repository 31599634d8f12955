// The storefront in a real browser (Debian's chromium, driven by playwright-core) against the
// whole stack of real processes: a visitor signs up, searches, fills a cart, checks out, gets the
// confirmation email over SMTP, sees the order and cancels it; an admin changes a price and
// advances an order; a failed sign-in reads as a sentence. Screenshots of the main pages go to
// test-results/storefront (git-ignored).

import { randomUUID } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { CHROMIUM_PATH, repoRoot } from '@polyshop/devstack'
import { ADMIN, eventually, startWholeStack } from '@polyshop/testkit'
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from 'playwright-core'
import t from 'tap'

const SCREENSHOTS = join(repoRoot, 'test-results', 'storefront')
mkdirSync(SCREENSHOTS, { recursive: true })

const stack = await startWholeStack(t, { env: { gateway: { AUTH_RATE_LIMIT_PER_MINUTE: '1000' } } })
const browser: Browser = await chromium.launch({
  executablePath: CHROMIUM_PATH,
  headless: true,
  // As root in a container, and with no network beyond loopback: no sandbox, no background calls home.
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync'
  ]
})
t.teardown(() => browser.close())

interface Shopper {
  context: BrowserContext
  page: Page
  /** Console errors, failed page scripts and CSP violations: a working page has none. */
  problems: string[]
}

async function open(viewport = { width: 1280, height: 900 }): Promise<Shopper> {
  const context = await browser.newContext({ baseURL: stack.gateway, locale: 'en-GB', viewport })
  const page = await context.newPage()
  const problems: string[] = []
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`)
  })
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`))
  return { context, page, problems }
}

/** Playwright's own assertions come with @playwright/test; these poll the same way, on playwright-core. */
const WAIT_MS = 15_000
const textOf = async (locator: Locator) =>
  ((await locator.textContent({ timeout: 500 }).catch(() => null)) ?? '').replace(/\s+/g, ' ').trim()
async function hasText(locator: Locator, expected: string | RegExp): Promise<void> {
  let last = ''
  await eventually(
    async () => {
      last = await textOf(locator)
      return (typeof expected === 'string' ? last === expected : expected.test(last)) ? true : undefined
    },
    WAIT_MS,
    `${locator} to read ${expected}`
  ).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}; it reads "${last}"`)
  })
}
const visible = (locator: Locator) => locator.waitFor({ state: 'visible', timeout: WAIT_MS })
const hasCount = (locator: Locator, count: number) =>
  eventually(async () => ((await locator.count()) === count ? true : undefined), WAIT_MS, `${count} of ${locator}`)

const shot = (page: Page, name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true })

/** Every form control has a name a screen reader can read. */
const unlabelled = (page: Page): Promise<string[]> =>
  page.evaluate(`[...document.querySelectorAll('input, select, textarea')]
    .filter((control) => control.type !== 'hidden' && control.labels.length === 0 && !control.getAttribute('aria-label'))
    .map((control) => control.outerHTML)`)

const euro = (amount: number) => `€${(amount / 100).toFixed(2)}`

interface ApiProduct {
  id: string
  name: string
  price: { amount: number }
  stock: number
}
const product = async (id: string): Promise<ApiProduct> =>
  (await fetch(`${stack.gateway}/api/v1/products/${id}`)).json() as Promise<ApiProduct>

t.test('a new visitor signs up, searches, fills the cart, checks out, is emailed, sees the order and cancels it', async (t) => {
  const { page, problems, context } = await open()
  const email = `mia-${randomUUID().slice(0, 8)}@example.com`

  const response = await page.goto('/')
  t.equal(response?.status(), 200)
  t.match(response?.headers()['content-security-policy'], /script-src 'self'/, 'pages carry a content security policy')
  await hasText(page.getByRole('heading', { level: 1 }), 'Good things, delivered.')
  await visible(page.getByRole('link', { name: /Coffee & Tea/ }))
  await visible(page.getByRole('list', { name: 'Popular now' }).getByRole('listitem').first())
  await shot(page, 'home')

  // Sign up from the header.
  await page.getByRole('link', { name: 'Sign in' }).click()
  await page.getByRole('link', { name: 'Create an account' }).click()
  await page.getByLabel('Name').fill('Mia Shopper')
  await page.getByLabel('Email').fill(email)
  await page.getByLabel('Password').fill('a long enough password')
  t.same(await unlabelled(page), [], 'every field of the sign-up form is labelled')
  await shot(page, 'sign-up')
  await page.getByRole('button', { name: 'Create account' }).click()
  await hasText(page.getByRole('heading', { level: 1 }), 'Welcome back, Mia Shopper.')

  // Search with the keyboard: type in the search box and press Enter.
  await page.getByRole('searchbox', { name: 'Search products' }).fill('tea')
  await page.keyboard.press('Enter')
  await hasText(page.getByRole('heading', { level: 1 }), 'Results for “tea”')
  const results = page.getByRole('list', { name: 'Products' }).getByRole('listitem')
  await visible(results.first())
  t.ok((await results.count()) >= 2, 'the seeded catalog has teas')
  t.same(await unlabelled(page), [], 'every filter is labelled')
  await shot(page, 'search')

  // The first result, once; the second, twice.
  const firstName = (await results.nth(0).locator('.card-name').textContent()) ?? ''
  const secondName = (await results.nth(1).locator('.card-name').textContent()) ?? ''
  await results.nth(0).getByRole('link').click()
  await hasText(page.getByRole('heading', { level: 1 }), firstName)
  const firstId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop() ?? '')
  const first = await product(firstId)
  await hasText(page.locator('.product-price'), euro(first.price.amount))
  await page.getByRole('button', { name: 'Add to cart' }).click()
  await visible(page.getByRole('status').filter({ hasText: 'Added 1 to your cart' }))
  await shot(page, 'product')
  await page.goBack()
  await page.getByRole('link', { name: secondName }).click()
  await hasText(page.getByRole('heading', { level: 1 }), secondName)
  const secondId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop() ?? '')
  const second = await product(secondId)
  await page.getByLabel('Quantity').fill('2')
  await page.getByRole('button', { name: 'Add to cart' }).click()
  await visible(page.getByRole('link', { name: 'Cart, 3 items' }))

  // The cart survives a reload; a quantity change updates the total.
  await page.getByRole('link', { name: 'Cart, 3 items' }).click()
  await page.reload()
  const lines = page.getByRole('list', { name: 'Items in your cart' }).getByRole('listitem')
  await hasCount(lines, 2)
  const total = first.price.amount + 2 * second.price.amount
  await hasText(page.locator('.summary .price-total'), euro(total))
  await page.getByRole('button', { name: `One more ${first.name}` }).click()
  await hasText(page.locator('.summary .price-total'), euro(total + first.price.amount))
  await page.getByRole('button', { name: `One fewer ${first.name}` }).click()
  await hasText(page.locator('.summary .price-total'), euro(total))
  await shot(page, 'cart')

  // Checkout.
  await page.getByRole('link', { name: 'Check out' }).click()
  await page.getByLabel('Full name').fill('Mia Shopper')
  await page.getByLabel('Street and number').fill('1 Harbour Street')
  await page.getByLabel('Postal code').fill('20095')
  await page.getByLabel('City').fill('Hamburg')
  await page.getByLabel('Country').selectOption('DE')
  t.same(await unlabelled(page), [], 'every checkout field is labelled')
  await shot(page, 'checkout')
  await page.getByRole('button', { name: /Place order/ }).click()
  await visible(page.getByRole('heading', { name: 'Thank you — your order is placed.' }))
  const orderId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop() ?? '')
  const reference = orderId.slice(0, 8).toUpperCase()
  await hasText(page.getByRole('heading', { level: 1 }), `Order ${reference}`)
  await hasText(page.locator('.order .price-total'), euro(total))
  await visible(page.getByRole('link', { name: 'Cart, 0 items' }))
  await shot(page, 'order-placed')

  // The confirmation email, through Kafka and the notification service, to the SMTP server in this test.
  const mail = await eventually(
    async () => stack.mails.find((m) => m.to.includes(email) && m.raw.includes(`order ${reference} is confirmed`)),
    60_000,
    'the confirmation email'
  )
  t.match(mail.raw, new RegExp(`Total: €${(total / 100).toFixed(2).replace('.', '[.,]')}`), 'the email states the total')

  // An expired access token is renewed on the way (the refresh mutation), unnoticed by the shopper.
  const session = async () =>
    JSON.parse(await page.evaluate<string>("localStorage.getItem('polyshop.session')")) as { refreshToken: string }
  const before = await session()
  await page.evaluate(
    "localStorage.setItem('polyshop.session', JSON.stringify({ ...JSON.parse(localStorage.getItem('polyshop.session')), expiresAt: 0 }))"
  )
  await page.reload()

  // My orders lists it; cancel it from its page.
  await page.getByRole('link', { name: 'My orders', exact: true }).click()
  const row = page.locator('.order-row').filter({ hasText: reference })
  await visible(row)
  await hasText(row.locator('.badge'), /Pending|Confirmed/)
  await shot(page, 'my-orders')
  t.not((await session()).refreshToken, before.refreshToken, 'the session was renewed with a new refresh token')
  await row.getByRole('link').click()
  await page.getByRole('button', { name: 'Cancel order' }).click()
  await page.getByRole('button', { name: 'Yes, cancel the order' }).click()
  await hasText(page.locator('.order-meta .badge'), 'Cancelled')
  await page.reload()
  await hasText(page.locator('.order-meta .badge'), 'Cancelled')
  t.equal((await product(firstId)).stock, first.stock, 'the stock came back')

  // Sign out ends the session here and in the API.
  await page.getByRole('button', { name: /Sign out/ }).click()
  await visible(page.getByRole('link', { name: 'Sign in' }))
  t.equal(await page.evaluate("localStorage.getItem('polyshop.session')"), null)
  t.same(problems, [], 'no console errors, page errors or CSP violations')
  await context.close()
})

t.test('an admin changes a price and advances an order; shoppers see the new price', async (t) => {
  const admin = await open()
  const { page } = admin
  await page.goto('/signin?next=/admin')
  await page.getByLabel('Email').fill(ADMIN.email)
  await page.getByLabel('Password').fill(ADMIN.password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await visible(page.getByRole('heading', { name: 'Products and stock' }))

  const before = await product('beanie')
  const newPrice = before.price.amount + 111
  await page.getByLabel('Find products').fill('beanie')
  await page.getByRole('button', { name: 'Find' }).click()
  const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: before.name, exact: true }) })
  await row.getByLabel(`Price of ${before.name}`).fill((newPrice / 100).toFixed(2))
  await row.getByRole('button', { name: `Save ${before.name}` }).click()
  await visible(row.getByText('Saved'))
  t.same(await unlabelled(page), [], 'every admin field is labelled')
  await shot(page, 'admin-products')
  t.equal((await product('beanie')).price.amount, newPrice, 'the catalog has the new price')

  // A guest in another browser sees it on the product page.
  const guest = await open()
  await guest.page.goto('/products/beanie')
  await hasText(guest.page.locator('.product-price'), euro(newPrice))

  // An order placed over the API shows up in the admin's list; mark it paid.
  const token = (
    (await (
      await fetch(`${stack.gateway}/api/v1/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: `olu-${randomUUID().slice(0, 8)}@example.com`, password: 'a long enough password', name: 'Olu' })
      })
    ).json()) as { accessToken: string }
  ).accessToken
  const placed = (await (
    await fetch(`${stack.gateway}/api/v1/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'idempotency-key': randomUUID() },
      body: JSON.stringify({
        items: [{ productId: 'beanie', quantity: 1 }],
        shippingAddress: { name: 'Olu', line1: '3 Quay', city: 'Lagos', postalCode: '100001', country: 'NG' }
      })
    })
  ).json()) as { id: string; total: { amount: number } }
  t.equal(placed.total.amount, newPrice, 'orders are priced at the new price')
  const reference = placed.id.slice(0, 8).toUpperCase()
  await page.getByRole('link', { name: 'Orders', exact: true }).click()
  const orderRow = page.getByRole('row').filter({ hasText: reference })
  await orderRow.getByRole('button', { name: `Mark paid ${reference}` }).click()
  await hasText(orderRow.locator('.badge'), 'Paid')
  await orderRow.getByRole('button', { name: `Mark shipped ${reference}` }).click()
  await hasText(orderRow.locator('.badge'), 'Shipped')
  await shot(page, 'admin-orders')

  // Put the price back for the other tests on this catalog.
  await row.page().goto('/admin')
  await page.getByLabel('Find products').fill('beanie')
  await page.getByRole('button', { name: 'Find' }).click()
  await row.getByLabel(`Price of ${before.name}`).fill((before.price.amount / 100).toFixed(2))
  await row.getByRole('button', { name: `Save ${before.name}` }).click()
  await visible(row.getByText('Saved'))
  t.same([...admin.problems, ...guest.problems], [], 'no console errors, page errors or CSP violations')
  await admin.context.close()
  await guest.context.close()
})

t.test('a shopper watching an order and My orders sees an admin mark it paid, live, without a reload', async (t) => {
  const shopper = await open()
  const { page, context } = shopper
  const email = `lin-${randomUUID().slice(0, 8)}@example.com`
  const registered = (await (
    await fetch(`${stack.gateway}/api/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: 'a long enough password', name: 'Lin' })
    })
  ).json()) as { accessToken: string }
  const placed = (await (
    await fetch(`${stack.gateway}/api/v1/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${registered.accessToken}`, 'idempotency-key': randomUUID() },
      body: JSON.stringify({
        items: [{ productId: 'wool-socks', quantity: 1 }],
        shippingAddress: { name: 'Lin', line1: '8 Harbour Rd', city: 'Hong Kong', postalCode: '999077', country: 'HK' }
      })
    })
  ).json()) as { id: string }
  const reference = placed.id.slice(0, 8).toUpperCase()

  await page.goto('/signin')
  await page.getByLabel('Email').fill(email)
  await page.getByLabel('Password').fill('a long enough password')
  await page.getByRole('button', { name: 'Sign in' }).click()
  await hasText(page.getByRole('heading', { level: 1 }), 'Welcome back, Lin.')
  await page.goto(`/orders/${placed.id}`)
  const list = await context.newPage()
  await list.goto('/orders')
  const badges = {
    order: page.locator('.order-meta .badge'),
    list: list.getByRole('listitem').filter({ hasText: reference }).locator('.badge')
  }
  await hasText(badges.order, 'Confirmed')
  await hasText(badges.list, 'Confirmed')
  // A mark on each window: a reload or navigation would wipe it.
  for (const tab of [page, list]) await tab.evaluate('window.polyshopTestMark = true')
  // Both pages hold a live subscription at the gateway before anything changes.
  await eventually(
    async () => {
      const metrics = await (await fetch(`${stack.urls.gatewayManagement}/metrics`)).text()
      return Number(/^gateway_live_subscriptions\{[^}]*\} (\d+)$/m.exec(metrics)?.[1] ?? 0) >= 2 ? true : undefined
    },
    WAIT_MS,
    'both pages subscribed'
  )

  const admin = (
    (await (
      await fetch(`${stack.gateway}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(ADMIN)
      })
    ).json()) as { accessToken: string }
  ).accessToken
  const paid = await fetch(`${stack.gateway}/api/v1/orders/${placed.id}/status`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
    body: JSON.stringify({ status: 'PAID' })
  })
  t.equal(paid.status, 200)
  await hasText(badges.order, 'Paid')
  await hasText(badges.list, 'Paid')
  for (const tab of [page, list]) {
    await hasText(tab.locator('[data-live-announcement]'), `Order ${reference} is now Paid.`)
    t.equal(await tab.evaluate('window.polyshopTestMark'), true, 'the same page, never reloaded')
  }
  t.equal(await page.locator('[data-live-announcement]').getAttribute('aria-live'), 'polite')
  await shot(page, 'order-live')
  t.same(shopper.problems, [], 'no console errors, page errors or CSP violations (the WebSocket is same-origin)')
  await context.close()
})

t.test('a failed sign-in and a customer in the admin area read as sentences', async (t) => {
  const { page, problems, context } = await open()
  await page.goto('/signin')
  await page.getByLabel('Email').fill('nobody@example.com')
  await page.getByLabel('Password').fill('not the password at all')
  await page.getByRole('button', { name: 'Sign in' }).click()
  await hasText(page.getByRole('alert'), 'The email or the password is wrong.')
  await shot(page, 'sign-in-failed')
  await visible(page.getByRole('link', { name: 'Sign in' }))

  // A customer who opens the admin area is told it is for staff; the API refuses them too.
  const email = `kai-${randomUUID().slice(0, 8)}@example.com`
  const registered = await fetch(`${stack.gateway}/api/v1/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: 'a long enough password', name: 'Kai' })
  })
  t.equal(registered.status, 201)
  await page.getByLabel('Email').fill(email)
  await page.getByLabel('Password').fill('a long enough password')
  await page.getByRole('button', { name: 'Sign in' }).click()
  await hasText(page.getByRole('heading', { level: 1 }), 'Welcome back, Kai.')
  t.equal(await page.getByRole('link', { name: 'Admin' }).count(), 0, 'no admin link for a customer')
  await page.goto('/admin')
  await hasText(page.getByRole('heading', { level: 1 }), 'Admins only')

  // An unknown page and an unknown product say so, inside the shop.
  await page.goto('/products/no-such-product')
  await hasText(page.getByRole('heading', { level: 1 }), 'This product is not in the catalog')
  const missing = await fetch(`${stack.gateway}/no-such-page`, { headers: { accept: 'text/html' } })
  t.equal(missing.status, 404, 'paths that are not pages are still 404s')
  t.same(problems, [])
  await context.close()
})

t.test('the catalog filters by category and price, sorts, and loads the next page as you scroll', async (t) => {
  const { page, problems, context } = await open()
  await page.goto('/search')
  const cards = page.getByRole('list', { name: 'Products' }).getByRole('listitem')
  await hasCount(cards, 12)
  // Scrolling to the end loads the next page, until the whole seeded catalog (60) is there.
  await eventually(async () => {
    await page.locator('.site-footer').scrollIntoViewIfNeeded()
    return (await cards.count()) === 60 ? true : undefined
  }, WAIT_MS)
  t.equal(await page.getByRole('button', { name: 'Show more' }).count(), 0, 'no more pages to ask for')
  t.equal(new Set(await page.locator('.card-name').allTextContents()).size, 60, 'no product twice')

  await page.getByLabel('Category').selectOption('books')
  await page.getByLabel('Sort by').selectOption('PRICE_ASC')
  await page.getByLabel('To').fill('25')
  await page.getByRole('button', { name: 'Apply prices' }).click()
  await hasText(page.getByRole('heading', { level: 1 }), 'Books')
  t.match(page.url(), /category=books/, 'the filters are in the address, so the page can be shared')
  await eventually(async () =>
    (await page.locator('.card .price').count()) > 0 && !(await page.getByRole('status').isVisible()) ? true : undefined
  )
  const prices = (await page.locator('.card .price').allTextContents()).map((text) => Number(text.replace(/[^0-9.]/g, '')))
  t.ok(prices.length > 0 && prices.every((price) => price <= 25), `books up to €25: ${prices.join(', ')}`)
  t.same(
    prices,
    [...prices].sort((a, b) => a - b),
    'cheapest first'
  )
  t.same(problems, [])
  await context.close()
})

t.test('at phone width nothing scrolls sideways and the cart still works', async (t) => {
  const { page, problems, context } = await open({ width: 390, height: 844 })
  await page.goto('/products/beanie')
  await page.getByRole('button', { name: 'Add to cart' }).click()
  await shot(page, 'phone-product')
  const overflow = async () => page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth')
  t.ok((await overflow()) <= 0, 'the product page fits')
  await page.getByRole('link', { name: 'Cart, 1 item' }).click()
  await hasCount(page.getByRole('list', { name: 'Items in your cart' }).getByRole('listitem'), 1)
  t.ok((await overflow()) <= 0, 'the cart fits')
  await shot(page, 'phone-cart')
  await page.goto('/search?category=books')
  await visible(page.getByRole('list', { name: 'Products' }).getByRole('listitem').first())
  t.ok((await overflow()) <= 0, 'the catalog fits')
  t.same(problems, [])
  await context.close()
})
