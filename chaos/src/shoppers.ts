// The load: shoppers who browse, search and place orders over REST and GraphQL with an
// idempotency key, retrying what a real client retries (no answer, 5xx, 429, "being placed")
// with the same key; some cancel; admins move some orders on to PAID and SHIPPED. Everything a
// client saw acknowledged is written down: the audit holds the system to it.
import type { Random } from './random.js'

const PASSWORD = 'a chaos shopper password'
const ADDRESS = { name: 'Chaos Shopper', line1: '1 Fault Line', city: 'Lisbon', postalCode: '1000-001', country: 'PT' }
/** How long one request may take before the client gives up on it (and retries). */
const REQUEST_TIMEOUT_MS = 10_000
/** How long a client keeps retrying one action before it gives up. */
const GIVE_UP_AFTER_MS = 120_000

/** One HTTP request as the client lived it: `failed` is no answer, a timeout or a 5xx. */
export interface Attempt {
  start: number
  end: number
  failed: boolean
}

export interface Line {
  productId: string
  quantity: number
}

/** An order a client saw acknowledged, and what it later saw acknowledged about it. */
export interface AcknowledgedOrder {
  id: string
  key: string
  userId: string
  via: 'rest' | 'graphql'
  lines: Line[]
  at: number
  /** The client asked to cancel it (acknowledged or not). */
  cancelAsked?: boolean
  /** The client's cancel was acknowledged. */
  cancelled?: boolean
  /** The furthest status an admin saw acknowledged. */
  advancedTo?: 'PAID' | 'SHIPPED'
}

export interface LoadRecord {
  attempts: Attempt[]
  orders: AcknowledgedOrder[]
  /** Orders the shop refused for a reason of the business (out of stock). */
  refused: number
  /** Actions a client gave up on after retrying for GIVE_UP_AFTER_MS: key and last answer. */
  gaveUp: Array<{ action: string; key?: string; last: string }>
  /** Orders being placed right now (the order service is killed while this is above 0). */
  inFlight: number
  users: Array<{ id: string; email: string }>
}

interface Answer {
  status: number
  body: Record<string, unknown> | undefined
}

type Outcome = { done: true; answer: Answer } | { done: false; last: string }

/** A client of the gateway that records every attempt. */
class Client {
  token = ''
  constructor(
    readonly gateway: string,
    readonly record: LoadRecord,
    readonly credentials?: { email: string; password: string }
  ) {}

  async request(
    path: string,
    options: { method?: string; body?: unknown; headers?: Record<string, string> } = {}
  ): Promise<Answer | string> {
    const start = Date.now()
    try {
      const response = await fetch(`${this.gateway}${path}`, {
        method: options.method ?? 'GET',
        headers: {
          ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(this.token === '' ? {} : { authorization: `Bearer ${this.token}` }),
          ...options.headers
        },
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS)
      })
      const text = await response.text()
      this.record.attempts.push({ start, end: Date.now(), failed: response.status >= 500 })
      let body: Record<string, unknown> | undefined
      try {
        body = text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>)
      } catch {
        body = undefined
      }
      return { status: response.status, body }
    } catch (error) {
      this.record.attempts.push({ start, end: Date.now(), failed: true })
      return (error as Error).name === 'TimeoutError' ? 'timeout' : `no answer (${(error as Error).message})`
    }
  }

  /**
   * Sends until the answer is final: a 2xx or a 4xx other than 401/429/"being placed". A 401
   * signs in again (a token cannot outlive a long run). Gives up after GIVE_UP_AFTER_MS.
   */
  async persist(action: string, send: () => Promise<Answer | string>, graphqlField?: string, key?: string): Promise<Answer | undefined> {
    const began = Date.now()
    let last = ''
    for (let attempt = 1; Date.now() - began < GIVE_UP_AFTER_MS; attempt++) {
      const outcome = classify(await send(), graphqlField)
      if (outcome.done) return outcome.answer
      last = outcome.last
      if (last.startsWith('401') && this.credentials !== undefined) await this.signIn().catch(() => undefined)
      await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 100 * 2 ** Math.min(attempt, 6)) * (0.5 + Math.random())))
    }
    this.record.gaveUp.push({ action, ...(key === undefined ? {} : { key }), last })
    return undefined
  }

  async signIn(): Promise<void> {
    const credentials = this.credentials
    if (credentials === undefined) return
    this.token = ''
    const answer = await this.persist('sign in', () => this.request('/api/v1/auth/login', { method: 'POST', body: credentials }))
    const token = answer?.body?.accessToken
    if (answer?.status === 200 && typeof token === 'string') this.token = token
  }

  graphql(query: string, variables: Record<string, unknown>): Promise<Answer | string> {
    return this.request('/graphql', { method: 'POST', body: { query, variables } })
  }
}

/** Final, or worth another try (with why). GraphQL answers 200 with errors: their status decides. */
function classify(answer: Answer | string, graphqlField?: string): Outcome {
  if (typeof answer === 'string') return { done: false, last: answer }
  let status = answer.status
  let code = typeof answer.body?.code === 'string' ? answer.body.code : ''
  if (graphqlField !== undefined && status === 200) {
    const errors = answer.body?.errors as Array<{ extensions?: { code?: string; status?: number } }> | undefined
    const data = answer.body?.data as Record<string, unknown> | null | undefined
    if (data?.[graphqlField] != null) return { done: true, answer: { status: 200, body: data[graphqlField] as Record<string, unknown> } }
    code = errors?.[0]?.extensions?.code ?? 'GRAPHQL_ERROR'
    status = errors?.[0]?.extensions?.status ?? (/UNAUTHENTICATED/.test(code) ? 401 : 500)
  }
  if (status >= 500 || status === 429 || status === 401 || code === 'ORD_ABORTED') return { done: false, last: `${status} ${code}` }
  return { done: true, answer: { status, body: answer.body } }
}

const PLACE_ORDER =
  'mutation($input: PlaceOrderInput!, $key: String!) { placeOrder(input: $input, idempotencyKey: $key) { id status userId } }'
const CANCEL_ORDER = 'mutation($id: ID!) { cancelOrder(id: $id, reason: "chaos shopper changed their mind") { id status } }'

export interface LoadOptions {
  gateway: string
  admin: { email: string; password: string }
  shoppers: number
  /** Stop once this many orders were acknowledged (and `keepGoing` says so). */
  orders: number
  keepGoing: () => boolean
  /** The products orders are made of; `hot` is in short supply. */
  products: string[]
  hot: string
  cancelShare: number
  random: Random
  log: (line: string) => void
}

export function emptyRecord(): LoadRecord {
  return { attempts: [], orders: [], refused: 0, gaveUp: [], inFlight: 0, users: [] }
}

/** Registers the shoppers (some with a phone, so SMS is sent too). */
export async function registerShoppers(options: LoadOptions, record: LoadRecord, runId: string): Promise<Client[]> {
  return await Promise.all(
    Array.from({ length: options.shoppers }, async (_, index) => {
      const email = `chaos-${runId}-${index}@example.com`
      const client = new Client(options.gateway, record, { email, password: PASSWORD })
      const answer = await client.persist('register', () =>
        client.request('/api/v1/auth/register', {
          method: 'POST',
          body: {
            email,
            password: PASSWORD,
            name: `Shopper ${index}`,
            ...(index % 2 === 0 ? { phone: `+35191000${String(index).padStart(4, '0')}` } : {})
          }
        })
      )
      const user = answer?.body?.user as { id?: string } | undefined
      if (answer?.status !== 201 || typeof user?.id !== 'string')
        throw new Error(`shopper ${index} could not register: ${JSON.stringify(answer)}`)
      client.token = String(answer.body?.accessToken ?? '')
      record.users.push({ id: user.id, email })
      return client
    })
  )
}

/** Runs the shoppers and the admins until enough orders are acknowledged and keepGoing() is false. */
export async function runLoad(options: LoadOptions, record: LoadRecord, shoppers: Client[]): Promise<void> {
  const { random } = options
  const more = () => record.orders.length < options.orders || options.keepGoing()
  const lines = (): Line[] => {
    const chosen = new Map<string, number>()
    if (random.next() < 0.2) chosen.set(options.hot, 1)
    const count = 1 + random.int(2)
    while (chosen.size < count + (chosen.has(options.hot) ? 1 : 0)) {
      chosen.set(random.pick(options.products), 1 + random.int(2))
    }
    return [...chosen].map(([productId, quantity]) => ({ productId, quantity }))
  }

  const shop = async (client: Client, index: number) => {
    for (let n = 0; more(); n++) {
      // Browse and search on the way, as people do.
      await client.request(`/api/v1/products/${random.pick(options.products)}`)
      if (n % 5 === 0) await client.request('/api/v1/products?q=tea&limit=5')
      const key = `chaos-${index}-${n}-${random.int(1e9)}`
      const order = lines()
      const via = random.next() < 0.5 ? 'rest' : 'graphql'
      record.inFlight++
      const answer = await client
        .persist(
          'place order',
          () =>
            via === 'rest'
              ? client.request('/api/v1/orders', {
                  method: 'POST',
                  body: { items: order, shippingAddress: ADDRESS },
                  headers: { 'idempotency-key': key }
                })
              : client.graphql(PLACE_ORDER, { input: { items: order, shippingAddress: ADDRESS }, key }),
          via === 'graphql' ? 'placeOrder' : undefined,
          key
        )
        .finally(() => {
          record.inFlight--
        })
      if (answer === undefined) continue
      const id = answer.body?.id
      if ((answer.status === 201 || answer.status === 200) && typeof id === 'string') {
        const placed: AcknowledgedOrder = { id, key, userId: String(answer.body?.userId ?? ''), via, lines: order, at: Date.now() }
        record.orders.push(placed)
        if (random.next() < options.cancelShare) {
          placed.cancelAsked = true
          const cancelled = await client.persist(
            'cancel order',
            () =>
              via === 'rest'
                ? client.request(`/api/v1/orders/${id}/cancel`, { method: 'POST', body: { reason: 'chaos shopper changed their mind' } })
                : client.graphql(CANCEL_ORDER, { id }),
            via === 'graphql' ? 'cancelOrder' : undefined
          )
          if (cancelled?.status === 200 && cancelled.body?.status === 'CANCELLED') placed.cancelled = true
        }
      } else if (answer.status === 409) {
        record.refused++
      } else {
        record.gaveUp.push({ action: 'place order', key, last: `${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}` })
      }
    }
  }

  // Admins pay for some orders soon after they are placed (the rest expire unpaid) and ship some.
  let next = 0
  const administer = async (admin: Client) => {
    while (more()) {
      const order = record.orders[next]
      if (order === undefined) {
        await new Promise((resolve) => setTimeout(resolve, 100))
        continue
      }
      next++
      if (order.cancelled === true || random.next() >= 0.4) continue
      for (const status of random.next() < 0.5 ? (['PAID', 'SHIPPED'] as const) : (['PAID'] as const)) {
        const answer = await admin.persist('advance order', () =>
          admin.request(`/api/v1/orders/${order.id}/status`, { method: 'PATCH', body: { status } })
        )
        if (answer?.status !== 200) break
        order.advancedTo = status
      }
    }
  }

  const admins = [new Client(options.gateway, record, options.admin), new Client(options.gateway, record, options.admin)]
  await Promise.all(admins.map((admin) => admin.signIn()))
  await Promise.all([...shoppers.map((client, index) => shop(client, index)), ...admins.map((admin) => administer(admin))])
}

/** Sets a product's stock through the admin API. */
export async function setStock(
  gateway: string,
  admin: { email: string; password: string },
  productId: string,
  stock: number
): Promise<void> {
  const client = new Client(gateway, emptyRecord(), admin)
  await client.signIn()
  const answer = await client.persist('set stock', () =>
    client.request(`/api/v1/products/${productId}`, { method: 'PATCH', body: { stock } })
  )
  if (answer?.status !== 200) throw new Error(`could not set the stock of ${productId}: ${JSON.stringify(answer)}`)
}
