import t from 'tap'
import { bearer, build, register } from './helper.js'

async function adminToken(app: Awaited<ReturnType<typeof build>>['app']) {
  t.equal(await app.accounts.ensureAdmin('admin@example.com', 'admin password 1'), 'created')
  t.equal(await app.accounts.ensureAdmin('admin@example.com', 'another password'), 'exists', 'an existing admin is left alone')
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { email: 'admin@example.com', password: 'admin password 1' }
  })
  return res.json().accessToken as string
}

t.test('the configured admin can list users page by page, newest first', async (t) => {
  const { app } = await build(t)
  const token = await adminToken(app)
  const created: string[] = []
  for (let i = 0; i < 5; i++) created.push((await register(app, `user${i}@example.com`)).user.id)

  const seen: string[] = []
  let cursor: string | null = null
  do {
    const query: string = cursor === null ? '?limit=2' : `?limit=2&cursor=${cursor}`
    const res = await app.inject({ method: 'GET', url: `/api/v1/users${query}`, headers: bearer(token) })
    t.equal(res.statusCode, 200)
    const page = res.json() as { items: Array<{ id: string }>; nextCursor: string | null }
    t.ok(page.items.length <= 2)
    seen.push(...page.items.map((u) => u.id))
    cursor = page.nextCursor
  } while (cursor !== null)
  t.equal(seen.length, 6, 'five customers and the admin, each once')
  t.same(seen.slice(0, 5), [...created].reverse(), 'newest first')

  const one = await app.inject({ method: 'GET', url: `/api/v1/users/${created[0]}`, headers: bearer(token) })
  t.equal(one.json().email, 'user0@example.com')
  const missing = await app.inject({ method: 'GET', url: '/api/v1/users/00000000-0000-4000-8000-000000000000', headers: bearer(token) })
  t.equal(missing.statusCode, 404)
})

t.test('an admin cannot disable their own account, and stays able to sign in', async (t) => {
  const { app } = await build(t)
  const token = await adminToken(app)
  const me = (await app.inject({ method: 'GET', url: '/api/v1/users/me', headers: bearer(token) })).json() as { id: string }
  const refused = await app.inject({
    method: 'POST',
    url: `/api/v1/users/${me.id}/disabled`,
    headers: bearer(token),
    payload: { disabled: true }
  })
  t.equal(refused.statusCode, 409)
  t.equal(refused.json().code, 'USR_CANNOT_DISABLE_SELF')
  const again = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { email: 'admin@example.com', password: 'admin password 1' }
  })
  t.equal(again.statusCode, 200, 'the admin still signs in')
})

t.test('a customer is refused the admin routes', async (t) => {
  const { app } = await build(t)
  const { accessToken, user } = await register(app, 'cust@example.com')
  for (const [method, url, payload] of [
    ['GET', '/api/v1/users', undefined],
    ['GET', `/api/v1/users/${user.id}`, undefined],
    ['POST', `/api/v1/users/${user.id}/disabled`, { disabled: true }]
  ] as const) {
    const res = await app.inject({ method, url, headers: bearer(accessToken), ...(payload === undefined ? {} : { payload }) })
    t.equal(res.statusCode, 403, `${method} ${url}`)
    t.equal(res.json().code, 'USR_FORBIDDEN')
  }
})

t.test('a user edits their own name and phone', async (t) => {
  const { app } = await build(t)
  const { accessToken } = await register(app, 'edit@example.com', { phone: '+4915100000000' })
  const res = await app.inject({
    method: 'PATCH',
    url: '/api/v1/users/me',
    headers: bearer(accessToken),
    payload: { name: '  Ada King  ', phone: null }
  })
  t.equal(res.statusCode, 200)
  t.equal(res.json().name, 'Ada King')
  t.notOk('phone' in res.json(), 'phone removed')
})
