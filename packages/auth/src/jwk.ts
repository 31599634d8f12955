import { createHash, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto'

/** A public key as published at /.well-known/jwks.json. */
export interface PublicJwk {
  kty: 'EC'
  crv: 'P-256'
  x: string
  y: string
  kid: string
  alg: 'ES256'
  use: 'sig'
}

/** RFC 7638 thumbprint: a key id every party can recompute from the key itself. */
export function jwkThumbprint(jwk: Pick<JsonWebKey, 'crv' | 'kty' | 'x' | 'y'>): string {
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })
  return createHash('sha256').update(canonical).digest('base64url')
}

/** The JWK of an EC P-256 public (or private: only its public part is used) key. */
export function toPublicJwk(key: KeyObject | string): PublicJwk {
  const publicKey = typeof key === 'string' ? createPublicKey(key) : key.type === 'private' ? createPublicKey(key) : key
  const jwk = publicKey.export({ format: 'jwk' })
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || typeof jwk.x !== 'string' || typeof jwk.y !== 'string') {
    throw new TypeError('access-token keys must be EC P-256 (ES256)')
  }
  return { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y, kid: jwkThumbprint(jwk), alg: 'ES256', use: 'sig' }
}

/** PEM of a published JWK, for the verifier. */
export function jwkToPem(jwk: PublicJwk): string {
  return createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, format: 'jwk' })
    .export({ format: 'pem', type: 'spki' })
    .toString()
}
