import t from 'tap'
import { bearer, build, PASSWORD, register } from './helper.js'

t.test('register → login → refresh → the rotated token is refused → logout', async (t) => {
  const { app } = await build(t)
  const registered = await register(app, 'ada@example.com', { phone: '+4915123456789' })
  t.match(registered, {
    user: { email: 'ada@example.com', name: 'Ada Lovelace', phone: '+4915123456789', roles: ['customer'], disabled: false },
    expiresIn: 900
  })
  t.notMatch(JSON.stringify(registered), /passwordHash|scrypt|outbox/, 'no secrets or internals in the reply')

  const login = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'ADA@example.com', password: PASSWORD } })
  t.equal(login.statusCode, 200, 'email matches case-insensitively')
  const first = login.json()

  const me = await app.inject({ method: 'GET', url: '/api/v1/users/me', headers: bearer(first.accessToken) })
  t.equal(me.statusCode, 200)
  t.equal(me.json().id, registered.user.id)

  const refreshed = await app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: first.refreshToken } })
  t.equal(refreshed.statusCode, 200)
  const second = refreshed.json()
  t.not(second.refreshToken, first.refreshToken, 'a new refresh token')

  const replay = await app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: first.refreshToken } })
  t.equal(replay.statusCode, 401, 'the rotated token is refused')
  t.equal(replay.json().code, 'USR_REFRESH_TOKEN_REUSED')
  const afterReplay = await app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: second.refreshToken } })
  t.equal(afterReplay.statusCode, 401, 'reuse revoked the whole session, the newest token included')

  const again = (
    await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'ada@example.com', password: PASSWORD } })
  ).json()
  const logout = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/logout',
    headers: bearer(again.accessToken),
    payload: { refreshToken: again.refreshToken }
  })
  t.equal(logout.statusCode, 204)
  const afterLogout = await app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: again.refreshToken } })
  t.equal(afterLogout.statusCode, 401)
  t.equal(afterLogout.json().code, 'USR_INVALID_REFRESH_TOKEN')
})

t.test('a bare logout (no body) ends every session; refreshing never extends a session', async (t) => {
  const { app, db } = await build(t)
  const first = await register(app, 'bare@example.com')
  const second = (
    await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'bare@example.com', password: PASSWORD } })
  ).json()
  const refreshed = (
    await app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: second.refreshToken } })
  ).json()
  const expiries = await db.collection('refresh_tokens').distinct('expiresAt', { userId: first.user.id })
  t.equal(expiries.length, 2, "two sessions; the refreshed token kept its session's expiry")
  const logout = await app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: bearer(first.accessToken) })
  t.equal(logout.statusCode, 204)
  for (const token of [first.refreshToken, refreshed.refreshToken]) {
    t.equal((await app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: token } })).statusCode, 401)
  }
})

t.test('concurrent refreshes with one token: exactly one succeeds', async (t) => {
  const { app } = await build(t)
  const { refreshToken } = await register(app, 'grace@example.com')
  const results = await Promise.all(
    Array.from({ length: 8 }, () => app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken } }))
  )
  t.equal(results.filter((r) => r.statusCode === 200).length, 1)
  t.equal(results.filter((r) => r.statusCode === 401).length, 7)
})

t.test('a wrong password and an unknown email get the same answer', async (t) => {
  const { app } = await build(t)
  await register(app, 'lin@example.com')
  const wrong = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { email: 'lin@example.com', password: 'not the password' }
  })
  const unknown = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { email: 'nobody@example.com', password: 'not the password' }
  })
  t.equal(wrong.statusCode, 401)
  t.equal(unknown.statusCode, 401)
  t.same(wrong.json(), unknown.json())
})

t.test('repeated failures for one account are throttled, with Retry-After', async (t) => {
  const { app } = await build(t, { LOGIN_MAX_FAILURES: '3' })
  await register(app, 'kim@example.com')
  for (let i = 0; i < 3; i++) {
    await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'kim@example.com', password: 'guess number one' } })
  }
  const blocked = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'kim@example.com', password: PASSWORD } })
  t.equal(blocked.statusCode, 429, 'even the right password waits')
  t.equal(blocked.json().code, 'USR_TOO_MANY_ATTEMPTS')
  t.ok(Number(blocked.headers['retry-after']) > 0)
})

t.test('a guesser on other clients cannot lock the owner out, and parallel guesses cannot slip past the limits', async (t) => {
  const { app } = await build(t, { PASSWORD_HASH_QUEUE: '200' })
  await register(app, 'owner@example.com')
  const login = (password: string, remoteAddress: string) =>
    app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress, payload: { email: 'owner@example.com', password } })
  t.equal((await login(PASSWORD, '192.0.2.10')).statusCode, 200, 'the owner signs in from her usual client')

  // 50 wrong guesses at once from one client: exactly 5 password checks.
  const burst = await Promise.all(Array.from({ length: 50 }, () => login('wrong guess 123', '198.51.100.1')))
  const count = (answers: Array<{ statusCode: number }>, status: number) => answers.filter((a) => a.statusCode === status).length
  t.equal(count(burst, 401), 5, '5 of 50 parallel guesses from one client were checked')
  t.equal(count(burst, 429), 45, 'the other 45 were refused before any password check')
  t.ok(Number(burst.find((a) => a.statusCode === 429)?.headers['retry-after']) > 0, 'with Retry-After')

  // 60 guesses at once, each from its own address: 20 checked for the account in all (5 were above).
  const spread = await Promise.all(Array.from({ length: 60 }, (_, i) => login('wrong guess 456', `203.0.113.${i + 1}`)))
  t.equal(count(spread, 401), 15, 'the per-account limit (20, with the 5 above) holds across 60 addresses at once')
  t.equal(count(spread, 429), 45)

  t.equal((await login(PASSWORD, '192.0.2.10')).statusCode, 200, 'the owner still signs in from her client')
  t.equal((await login(PASSWORD, '198.51.100.1')).statusCode, 429, 'the guessing client waits, even with the right password')
  t.equal((await login(PASSWORD, '192.0.2.99')).statusCode, 429, 'a client never used for this account waits for the window')
})

t.test('auth routes are rate-limited per client IP', async (t) => {
  const { app } = await build(t, { RATE_LIMIT_PER_MINUTE: '3' })
  const statuses: number[] = []
  for (let i = 0; i < 4; i++) {
    statuses.push(
      (await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: `x${i}@example.com`, password: 'whatever123' } }))
        .statusCode
    )
  }
  t.same(statuses, [401, 401, 401, 429])
})

t.test('registration refuses weak passwords and a second account for the same email', async (t) => {
  const { app, db } = await build(t)
  const weak = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/register',
    payload: { email: 'sam@example.com', password: 'short', name: 'Sam' }
  })
  t.equal(weak.statusCode, 400)
  t.equal(weak.json().code, 'USR_WEAK_PASSWORD')
  await register(app, 'Sam@Example.com')
  const duplicate = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/register',
    payload: { email: 'sam@example.com', password: PASSWORD, name: 'Sam' }
  })
  t.equal(duplicate.statusCode, 409)
  t.equal(duplicate.json().code, 'USR_EMAIL_TAKEN')
  t.equal(await db.collection('users').countDocuments(), 1)
})

t.test('a disabled account can neither sign in nor refresh', async (t) => {
  const { app } = await build(t)
  const user = await register(app, 'eve@example.com')
  await app.accounts.ensureAdmin('root@example.com', 'admin password 1')
  const admin = (
    await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'root@example.com', password: 'admin password 1' } })
  ).json()
  const disabled = await app.inject({
    method: 'POST',
    url: `/api/v1/users/${user.user.id}/disabled`,
    headers: bearer(admin.accessToken),
    payload: { disabled: true }
  })
  t.equal(disabled.statusCode, 200)
  t.equal(disabled.json().disabled, true)
  const login = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'eve@example.com', password: PASSWORD } })
  t.equal(login.statusCode, 403)
  t.equal(login.json().code, 'USR_ACCOUNT_DISABLED')
  const refresh = await app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: user.refreshToken } })
  t.equal(refresh.statusCode, 401)
})
