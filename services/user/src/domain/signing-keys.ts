import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { ACCESS_TOKEN_ALGORITHM, type PublicJwk, toPublicJwk } from '@polyshop/auth'
import { createSigner } from 'fast-jwt'

/**
 * The keys access tokens are signed with: the current private key and the public keys of
 * retired ones, still published (and accepted) until the tokens they signed have expired.
 */
export interface SigningKeys {
  current: { kid: string; privateKeyPem: string }
  /** Everything the JWKS publishes, current key first. */
  jwks: PublicJwk[]
  /** True when no key was configured and one was generated for this process. */
  generated: boolean
}

function splitPems(pems: string): string[] {
  return pems.match(/-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g) ?? []
}

/**
 * From configuration, or a fresh EC P-256 key when none is configured (development only:
 * tokens stop verifying when the process restarts, and replicas would disagree).
 */
export function loadSigningKeys(privateKeyPem: string | undefined, previousPublicKeys: string | undefined): SigningKeys {
  let privateKey: KeyObject
  let generated = false
  if (privateKeyPem === undefined) {
    privateKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
    generated = true
  } else {
    privateKey = createPrivateKey(privateKeyPem)
  }
  const current = toPublicJwk(privateKey)
  const previous = splitPems(previousPublicKeys ?? '')
    .map((pem) => toPublicJwk(pem))
    .filter((jwk) => jwk.kid !== current.kid)
  return {
    current: { kid: current.kid, privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() },
    jwks: [current, ...previous],
    generated
  }
}

/** Signs tokens with the current key: ES256, its kid, the issuer and audience, expiring after ttlSeconds. */
export function tokenSigner(
  keys: SigningKeys,
  claims: { issuer: string; audience: string; ttlSeconds: number }
): (payload: Record<string, unknown>) => string {
  return createSigner({
    key: keys.current.privateKeyPem,
    algorithm: ACCESS_TOKEN_ALGORITHM,
    kid: keys.current.kid,
    iss: claims.issuer,
    aud: claims.audience,
    expiresIn: claims.ttlSeconds * 1000
  })
}
