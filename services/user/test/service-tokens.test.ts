import { createAccessTokenVerifier, jwkToPem, SERVICE_TOKEN_PATH } from '@polyshop/auth'
import t from 'tap'
import { bearer, build } from './helper.js'

const SECRET = 'a-service-secret-of-32-characters'

t.test('a listed service exchanges its credentials for a short-lived service token', async (t) => {
  const { app, config, keys } = await build(t, { SERVICE_CLIENTS: `order:${SECRET}, recommendation:${'r'.repeat(24)}` })
  const res = await app.inject({ method: 'POST', url: SERVICE_TOKEN_PATH, payload: { clientId: 'order', clientSecret: SECRET } })
  t.equal(res.statusCode, 200)
  const body = res.json() as { accessToken: string; tokenType: string; expiresIn: number }
  t.equal(body.tokenType, 'Bearer')
  t.equal(body.expiresIn, 300, 'five minutes by default')
  const resolveKey = async (kid: string) => {
    const jwk = keys.jwks.find((key) => key.kid === kid)
    return jwk === undefined ? undefined : jwkToPem(jwk)
  }
  const identity = await createAccessTokenVerifier({ issuer: config.JWT_ISSUER, audience: 'polyshop-internal', resolveKey })(
    body.accessToken
  )
  t.equal(identity.userId, 'service:order')
  t.same(identity.roles, ['service'])

  const asUser = createAccessTokenVerifier({ issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE, resolveKey })
  await t.rejects(asUser(body.accessToken), /not valid/, 'it is no user access token (another audience)')
  const me = await app.inject({ method: 'GET', url: '/api/v1/users/me', headers: bearer(body.accessToken) })
  t.equal(me.statusCode, 401, 'so the user API refuses it')
})

t.test('wrong or unknown credentials, malformed bodies and an empty list give no token', async (t) => {
  const { app } = await build(t, { SERVICE_CLIENTS: `order:${SECRET}` })
  const attempt = (payload: unknown) => app.inject({ method: 'POST', url: SERVICE_TOKEN_PATH, payload: payload as object })
  for (const payload of [
    { clientId: 'order', clientSecret: `${SECRET}x` },
    { clientId: 'order', clientSecret: SECRET.slice(0, -1) },
    { clientId: 'gateway', clientSecret: SECRET },
    { clientId: 'order', clientSecret: '' }
  ]) {
    const res = await attempt(payload)
    t.ok(res.statusCode === 401 || res.statusCode === 400, `${JSON.stringify(payload)} → ${res.statusCode}`)
    t.notOk('accessToken' in (res.json() as object), 'and no token')
    t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8')
  }
  for (const payload of [
    {},
    { clientId: 'order' },
    { clientId: 'Order!', clientSecret: SECRET },
    { clientId: 'order', clientSecret: SECRET, roles: ['admin'] }
  ]) {
    t.equal((await attempt(payload)).statusCode, 400, `${JSON.stringify(payload)} is malformed`)
  }
  const none = await build(t)
  const res = await none.app.inject({ method: 'POST', url: SERVICE_TOKEN_PATH, payload: { clientId: 'order', clientSecret: SECRET } })
  t.equal(res.statusCode, 401, 'with no SERVICE_CLIENTS configured, nobody gets one')
})

t.test('SERVICE_CLIENTS is checked at start: short secrets and malformed entries are refused', async (t) => {
  for (const value of ['order:short', 'order', `:${SECRET}`, `order:${SECRET},order:${SECRET}`, `Order:${SECRET}`]) {
    await t.rejects(build(t, { SERVICE_CLIENTS: value }), value.replace(SECRET, '…'))
  }
})
