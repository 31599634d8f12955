import { createHmac, createPublicKey, generateKeyPairSync, randomUUID } from 'node:crypto'
import { createAccessTokenVerifier, jwkToPem, type PublicJwk } from '@polyshop/auth'
import { createSigner } from 'fast-jwt'
import t from 'tap'
import { loadSigningKeys } from '../src/domain/signing-keys.js'
import { bearer, build, register } from './helper.js'

function pemPair() {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  return {
    privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicPem: publicKey.export({ format: 'pem', type: 'spki' }).toString()
  }
}

t.test('an issued token verifies against the published JWKS, with every claim', async (t) => {
  const { app, config } = await build(t)
  const { accessToken, user } = await register(app, 'jwks@example.com')
  const jwks = await app.inject('/.well-known/jwks.json')
  t.equal(jwks.statusCode, 200)
  t.match(jwks.headers['cache-control'], /max-age=300/)
  const keys = jwks.json().keys as PublicJwk[]
  t.equal(keys.length, 1)
  t.notOk('d' in (keys[0] as object), 'no private part is published')
  const verify = createAccessTokenVerifier({
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    resolveKey: async (kid) => {
      const jwk = keys.find((k) => k.kid === kid)
      return jwk === undefined ? undefined : jwkToPem(jwk)
    }
  })
  const identity = await verify(accessToken)
  t.equal(identity.userId, user.id)
  t.same(identity.roles, ['customer'])
  const [header, payload] = accessToken
    .split('.')
    .slice(0, 2)
    .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()))
  t.match(header, { alg: 'ES256', kid: keys[0]?.kid })
  t.match(payload, { sub: user.id, iss: 'polyshop-user', aud: 'polyshop', roles: ['customer'] })
  t.equal(payload.exp - payload.iat, 900, 'short-lived: 15 minutes')
  t.match(payload.jti, /^[0-9a-f-]{36}$/)
})

t.test('forged, expired and misdirected tokens are refused with 401 problem+json', async (t) => {
  const { app, keys } = await build(t)
  const { user } = await register(app, 'victim@example.com')
  const now = Math.floor(Date.now() / 1000)
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const claims = { sub: user.id, roles: ['admin'], iss: 'polyshop-user', aud: 'polyshop', iat: now, exp: now + 600, jti: randomUUID() }
  const publicPem = createPublicKey(keys.current.privateKeyPem).export({ format: 'pem', type: 'spki' }).toString()
  const hs256 = (input: string) => `${input}.${createHmac('sha256', publicPem).update(input).digest('base64url')}`
  const ours = (overrides: Record<string, unknown>) =>
    createSigner({ key: keys.current.privateKeyPem, algorithm: 'ES256', kid: keys.current.kid })({ ...claims, ...overrides })
  const tokens: Record<string, string> = {
    'another key': createSigner({ key: pemPair().privatePem, algorithm: 'ES256', kid: keys.current.kid })(claims),
    'alg none': `${b64({ alg: 'none', kid: keys.current.kid })}.${b64(claims)}.`,
    'HS256 made with the public key': hs256(`${b64({ alg: 'HS256', typ: 'JWT', kid: keys.current.kid })}.${b64(claims)}`),
    expired: ours({ iat: now - 3600, exp: now - 1800 }),
    'wrong audience': ours({ aud: 'elsewhere' }),
    'wrong issuer': ours({ iss: 'elsewhere' })
  }
  for (const [name, token] of Object.entries(tokens)) {
    const res = await app.inject({ method: 'GET', url: '/api/v1/users/me', headers: bearer(token) })
    t.equal(res.statusCode, 401, name)
    t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8', name)
    t.equal(res.json().code, 'USR_UNAUTHENTICATED', name)
    t.match(res.headers['www-authenticate'], /^Bearer/, name)
  }
  const none = await app.inject({ method: 'GET', url: '/api/v1/users/me' })
  t.equal(none.statusCode, 401, 'no token at all')
})

t.test('key rotation: tokens of the previous key verify until they expire, and both keys are published', async (t) => {
  const old = pemPair()
  const next = pemPair()
  const oldKeys = loadSigningKeys(old.privatePem, undefined)
  const rotated = loadSigningKeys(next.privatePem, old.publicPem)
  const before = await build(t, {}, oldKeys)
  const { accessToken } = await register(before.app, 'rotate@example.com')

  const after = await build(t, {}, rotated)
  await after.db.collection('users').insertMany(await before.db.collection('users').find().toArray())
  const me = await after.app.inject({ method: 'GET', url: '/api/v1/users/me', headers: bearer(accessToken) })
  t.equal(me.statusCode, 200, 'a token signed with the retired key still works')
  const kids = (await after.app.inject('/.well-known/jwks.json')).json().keys.map((k: PublicJwk) => k.kid)
  t.same(kids, [rotated.current.kid, oldKeys.current.kid], 'the new key first, the retired one still published')

  const fresh = await register(after.app, 'new@example.com')
  t.equal(
    JSON.parse(Buffer.from(fresh.accessToken.split('.')[0] ?? '', 'base64url').toString()).kid,
    rotated.current.kid,
    'new tokens use the new key'
  )
})

t.test('without a configured key one is generated, never a fixed one', async (t) => {
  const a = loadSigningKeys(undefined, undefined)
  const b = loadSigningKeys(undefined, undefined)
  t.ok(a.generated)
  t.not(a.current.kid, b.current.kid)
})
