import t from 'tap'
import { bearer, build, PASSWORD, register } from './helper.js'

t.test('bad input on every route is a 400 problem and changes nothing', async (t) => {
  const { app, db } = await build(t)
  const { accessToken } = await register(app, 'owner@example.com', { phone: '+4915100000000' })
  await app.accounts.ensureAdmin('admin@example.com', 'admin password 1')
  const admin = (
    await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'admin@example.com', password: 'admin password 1' } })
  ).json()
  const snapshot = async () =>
    JSON.stringify(
      await db
        .collection('users')
        .find({}, { projection: { updatedAt: 0 } })
        .sort({ _id: 1 })
        .toArray()
    )
  const before = await snapshot()
  const huge = 'x'.repeat(10_000)
  const cases: Array<{ name: string; method: 'GET' | 'POST' | 'PATCH'; url: string; payload?: unknown; token?: string }> = [
    {
      name: 'register: unknown field',
      method: 'POST',
      url: '/api/v1/auth/register',
      payload: { email: 'a@example.com', password: PASSWORD, name: 'A', role: 'admin' }
    },
    { name: 'register: wrong types', method: 'POST', url: '/api/v1/auth/register', payload: { email: 42, password: true, name: [] } },
    {
      name: 'register: huge name',
      method: 'POST',
      url: '/api/v1/auth/register',
      payload: { email: 'b@example.com', password: PASSWORD, name: huge }
    },
    {
      name: 'register: not an email',
      method: 'POST',
      url: '/api/v1/auth/register',
      payload: { email: 'not-an-email', password: PASSWORD, name: 'B' }
    },
    {
      name: 'register: bad phone',
      method: 'POST',
      url: '/api/v1/auth/register',
      payload: { email: 'c@example.com', password: PASSWORD, name: 'C', phone: '12345' }
    },
    {
      name: 'register: blank name',
      method: 'POST',
      url: '/api/v1/auth/register',
      payload: { email: 'd@example.com', password: PASSWORD, name: '   ' }
    },
    { name: 'register: no body', method: 'POST', url: '/api/v1/auth/register' },
    ...['Ada\u0007', '\u0007', 'Ada\u0085Bcc: x', 'Ada\u2028x', 'Ada\u202eevil', 'Ada\u009b', '\u200b', 'Ada\u2066x'].map((name) => ({
      name: `register: control character in the name (${[...name].map((c) => (c.codePointAt(0) ?? 0).toString(16)).join(' ')})`,
      method: 'POST' as const,
      url: '/api/v1/auth/register',
      payload: { email: 'e@example.com', password: PASSWORD, name }
    })),
    { name: 'me: line break in the name', method: 'PATCH', url: '/api/v1/users/me', payload: { name: 'Ada\u2029Bcc' }, token: accessToken },
    {
      name: 'login: unknown field',
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: 'owner@example.com', password: PASSWORD, admin: true }
    },
    { name: 'refresh: malformed token', method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: 'short' } },
    { name: 'refresh: huge token', method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: huge } },
    { name: 'me: unknown field', method: 'PATCH', url: '/api/v1/users/me', payload: { roles: ['admin'] }, token: accessToken },
    { name: 'me: empty patch', method: 'PATCH', url: '/api/v1/users/me', payload: {}, token: accessToken },
    { name: 'me: wrong type', method: 'PATCH', url: '/api/v1/users/me', payload: { name: 7 }, token: accessToken },
    { name: 'admin get: malformed id', method: 'GET', url: '/api/v1/users/not-a-uuid', token: admin.accessToken },
    { name: 'admin list: limit too big', method: 'GET', url: '/api/v1/users?limit=100000', token: admin.accessToken },
    { name: 'admin list: negative limit', method: 'GET', url: '/api/v1/users?limit=-1', token: admin.accessToken },
    { name: 'admin list: forged cursor', method: 'GET', url: '/api/v1/users?cursor=bm90LWpzb24', token: admin.accessToken },
    {
      name: 'admin disable: wrong type',
      method: 'POST',
      url: '/api/v1/users/00000000-0000-4000-8000-000000000000/disabled',
      payload: { disabled: 'yes' },
      token: admin.accessToken
    }
  ]
  for (const c of cases) {
    const res = await app.inject({
      method: c.method,
      url: c.url,
      ...(c.payload === undefined ? {} : { payload: c.payload as object }),
      ...(c.token === undefined ? {} : { headers: bearer(c.token) })
    })
    t.equal(res.statusCode, 400, c.name)
    t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8', c.name)
    t.match(res.json().code, /^USR_/, c.name)
  }
  t.equal(await snapshot(), before, 'the database is unchanged')
  const big = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/register',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ email: 'e@example.com', password: PASSWORD, name: 'x'.repeat(100_000) })
  })
  t.equal(big.statusCode, 413, 'a body over the limit is refused before parsing')
})
