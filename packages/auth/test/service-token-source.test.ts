import { SERVICE_TOKEN_PATH, ServiceTokenUnavailableError, serviceTokenSource } from '@polyshop/auth'
import t from 'tap'

function fakeUserService(answers: Array<() => Response>) {
  const requests: Array<{ url: string; body: unknown }> = []
  const fetch = (async (url: string, init: RequestInit) => {
    requests.push({ url, body: JSON.parse(String(init.body)) })
    await new Promise((resolve) => setTimeout(resolve, 5))
    const next = answers.shift()
    if (next === undefined) throw new Error('no answer left')
    return next()
  }) as unknown as typeof globalThis.fetch
  return { fetch, requests }
}

const issued =
  (token: string, expiresIn = 300) =>
  () =>
    Response.json({ accessToken: token, tokenType: 'Bearer', expiresIn })

/** The order service's token source, asking the fake user service, on a clock of the test's. */
const orderSource = (fetch: typeof globalThis.fetch, now?: () => number) =>
  serviceTokenSource({
    userServiceUrl: 'http://user:3001',
    clientId: 'order',
    clientSecret: 's'.repeat(24),
    fetch,
    ...(now ? { now } : {})
  })

t.test('one request for many callers, cached until 80 % of its life, renewed after', async (t) => {
  let now = 1_000_000
  const user = fakeUserService([issued('first'), issued('second')])
  const source = orderSource(user.fetch, () => now)
  t.same(await Promise.all([source.token(), source.token(), source.token()]), ['first', 'first', 'first'])
  t.equal(user.requests.length, 1, 'concurrent callers share one request')
  t.same(user.requests[0], { url: `http://user:3001${SERVICE_TOKEN_PATH}`, body: { clientId: 'order', clientSecret: 's'.repeat(24) } })
  now += 239_000
  t.equal(await source.token(), 'first', 'still fresh at 79 %')
  now += 2000
  t.equal(await source.token(), 'first', 'past 80 % the token in hand is still given, and renewed meanwhile')
  await new Promise((resolve) => setTimeout(resolve, 20))
  t.equal(await source.token(), 'second', 'renewed')
  t.equal(user.requests.length, 2)
})

t.test('invalidate() forgets the token; refusals and outages are ServiceTokenUnavailableError and not cached', async (t) => {
  const user = fakeUserService([
    issued('first'),
    () => new Response('{}', { status: 401 }),
    () => {
      throw new TypeError('fetch failed')
    },
    issued('third')
  ])
  const source = serviceTokenSource({
    userServiceUrl: 'http://user:3001',
    clientId: 'order',
    clientSecret: 's'.repeat(24),
    fetch: user.fetch
  })
  t.equal(await source.token(), 'first')
  source.invalidate()
  await t.rejects(source.token(), ServiceTokenUnavailableError, 'refused credentials')
  await t.rejects(source.token(), ServiceTokenUnavailableError, 'the user service is down')
  t.equal(await source.token(), 'third', 'it asks again once the user service answers')
})

t.test('past 80 % the token in hand is used at once while it is renewed; failed renewals back off until it expires', async (t) => {
  let now = 1_000_000
  let release: () => void = () => {}
  const slow = () => new Promise<Response>((resolve) => (release = () => resolve(issued('renewed', 300)())))
  const down = () => {
    throw new TypeError('fetch failed')
  }
  const answers: Array<() => Response | Promise<Response>> = [issued('first', 300), slow, down, down, issued('second', 300)]
  const requests: string[] = []
  const fetch = (async () => {
    requests.push('asked')
    return await (answers.shift() as () => Response | Promise<Response>)()
  }) as unknown as typeof globalThis.fetch
  const source = orderSource(fetch, () => now)
  t.equal(await source.token(), 'first')

  // At 83 % the user service is slow: the caller does not wait for it.
  now += 250_000
  const hung = new Promise<string>((resolve) => setTimeout(() => resolve('waited for the renewal'), 200))
  t.equal(await Promise.race([source.token(), hung]), 'first', 'the valid token, at once')
  release()
  await new Promise((resolve) => setTimeout(resolve, 10))
  t.equal(await source.token(), 'renewed', 'the background renewal replaced it')
  t.equal(requests.length, 2)

  // Renewal fails: the token in hand still serves, and the next attempt waits 5 s.
  now += 250_000
  t.equal(await source.token(), 'renewed')
  await new Promise((resolve) => setTimeout(resolve, 10))
  t.equal(await source.token(), 'renewed', 'still usable after a failed renewal')
  t.equal(requests.length, 3, 'no second attempt within 5 s')
  // Five seconds before expiry it is not presented; the caller waits for a renewal that fails.
  now += 45_000
  await t.rejects(source.token(), ServiceTokenUnavailableError)
  t.equal(await source.token(), 'second', 'renewed once the user service answers')
  t.equal(requests.length, 5)
})
