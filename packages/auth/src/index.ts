export { type AuthenticationOptions, authentication } from './fastify.js'
export { jwkThumbprint, jwkToPem, type PublicJwk, toPublicJwk } from './jwk.js'
export { type JwksResolverOptions, jwksKeyResolver } from './jwks.js'
export {
  ACCESS_TOKEN_ALGORITHM,
  type AccessTokenVerifierOptions,
  createAccessTokenVerifier,
  type Identity,
  InvalidTokenError,
  KeysUnavailableError,
  type PublicKeyResolver
} from './verifier.js'
