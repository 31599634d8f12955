import { createHmac, generateKeyPairSync, randomUUID } from 'node:crypto'
import { createSigner } from 'fast-jwt'
import t from 'tap'
import { createAccessTokenVerifier, InvalidTokenError, jwkToPem, KeysUnavailableError, toPublicJwk } from '../src/index.js'

const issuer = 'polyshop-user'
const audience = 'polyshop'
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const jwk = toPublicJwk(privateKey)
const privatePem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
const verify = createAccessTokenVerifier({ issuer, audience, resolveKey: async (kid) => (kid === jwk.kid ? jwkToPem(jwk) : undefined) })

function sign(
  overrides: { key?: string; kid?: string; iss?: string; aud?: string; expiresIn?: number; claims?: Record<string, unknown> } = {}
) {
  return createSigner({
    key: overrides.key ?? privatePem,
    algorithm: 'ES256',
    kid: overrides.kid ?? jwk.kid,
    iss: overrides.iss ?? issuer,
    aud: overrides.aud ?? audience,
    expiresIn: overrides.expiresIn ?? 60_000
  })({ sub: 'u-1', roles: ['customer'], jti: randomUUID(), ...overrides.claims })
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

t.test('a token signed with the published key verifies to the caller', async (t) => {
  const identity = await verify(sign())
  t.equal(identity.userId, 'u-1')
  t.same(identity.roles, ['customer'])
  t.ok(identity.expiresAt.getTime() > Date.now())
})

t.test('forged and unsuitable tokens are refused', async (t) => {
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
  const now = Math.floor(Date.now() / 1000)
  const claims = { sub: 'u-1', roles: ['admin'], iss: issuer, aud: audience, iat: now, exp: now + 60, jti: randomUUID() }
  const none = `${base64url({ alg: 'none', typ: 'JWT', kid: jwk.kid })}.${base64url(claims)}.`
  // The classic confusion attack: HMAC "signed" with the public key as the secret.
  const hsInput = `${base64url({ alg: 'HS256', typ: 'JWT', kid: jwk.kid })}.${base64url(claims)}`
  const hs256 = `${hsInput}.${createHmac('sha256', jwkToPem(jwk)).update(hsInput).digest('base64url')}`
  const cases: Array<[string, string, RegExp]> = [
    ['signed with another key under our key id', sign({ key: other }), /not valid/],
    ['alg none', none, /refused algorithm/],
    ['HS256 made with the public key', hs256, /refused algorithm/],
    ['expired', sign({ expiresIn: 1, claims: { iat: now - 120 } }), /expired|not valid/],
    ['wrong audience', sign({ aud: 'someone-else' }), /not valid/],
    ['wrong issuer', sign({ iss: 'evil' }), /not valid/],
    ['unknown key id', sign({ kid: 'nope' }), /unknown key/],
    [
      'no roles claim',
      createSigner({ key: privatePem, algorithm: 'ES256', kid: jwk.kid, iss: issuer, aud: audience })({ sub: 'u', jti: 'x' }),
      /not valid/
    ],
    ['garbage', 'not.a.token', /malformed/]
  ]
  for (const [name, token, reason] of cases) {
    await t.rejects(verify(token), InvalidTokenError, name)
    await verify(token).catch((error: Error) => t.match(error.message, reason, name))
  }
})

t.test('key ids are RFC 7638 thumbprints', async (t) => {
  // Thumbprint of the example key in RFC 7638 §3.1 is for RSA; check stability instead.
  t.equal(toPublicJwk(privateKey).kid, jwk.kid)
  t.equal(toPublicJwk(jwkToPem(jwk)).kid, jwk.kid)
  t.match(jwk, { kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' })
})

t.test('an unreachable key source is an outage, not a bad token', async (t) => {
  const down = createAccessTokenVerifier({
    issuer,
    audience,
    resolveKey: async () => {
      throw new Error('connect ECONNREFUSED user:3001')
    }
  })
  await t.rejects(down(sign()), KeysUnavailableError)
})

t.test('a verified token is remembered until it expires; refusals and outages are never remembered', async (t) => {
  let lookups = 0
  let keysReachable = true
  const cached = createAccessTokenVerifier({
    issuer,
    audience,
    cacheSize: 2,
    resolveKey: async (kid) => {
      lookups += 1
      if (!keysReachable) throw new Error('connection refused')
      return kid === jwk.kid ? jwkToPem(jwk) : undefined
    }
  })
  const token = sign()
  t.equal((await cached(token)).userId, 'u-1')
  t.equal((await cached(token)).userId, 'u-1')
  t.equal(lookups, 1, 'the second request did not verify again')

  keysReachable = false
  const fresh = sign()
  await t.rejects(cached(fresh), KeysUnavailableError)
  keysReachable = true
  t.equal((await cached(fresh)).userId, 'u-1', 'an outage is decided afresh once the keys are back')

  const unknownKid = sign({ kid: 'not-a-key' })
  await t.rejects(cached(unknownKid), InvalidTokenError)
  await t.rejects(cached(unknownKid), InvalidTokenError, 'a refused token stays refused')

  // Bounded: a third token pushes the oldest out.
  const third = sign()
  await cached(third)
  const before = lookups
  await cached(token)
  t.equal(lookups, before + 1, 'the oldest entry was evicted and verified again')

  let shortLookups = 0
  const shortLived = createAccessTokenVerifier({
    issuer,
    audience,
    cacheSize: 10,
    cacheTtlMs: 20,
    resolveKey: async () => {
      shortLookups += 1
      return jwkToPem(jwk)
    }
  })
  await shortLived(token)
  await new Promise((resolve) => setTimeout(resolve, 40))
  await shortLived(token)
  t.equal(shortLookups, 2, 'past cacheTtlMs the token is verified again')
})
