export { type AuthenticationOptions, authentication } from './fastify.js'
export { jwkThumbprint, jwkToPem, type PublicJwk, toPublicJwk } from './jwk.js'
export { type JwksResolverOptions, jwksKeyResolver } from './jwks.js'
export {
  httpRevocationSource,
  REVOCATIONS_PATH,
  type Revocation,
  type RevocationCursor,
  RevocationFeed,
  type RevocationFeedOptions,
  RevocationList,
  type RevocationPage,
  type UserServiceTrustOptions,
  userServiceTrust
} from './revocations.js'
export {
  SERVICE_ROLE,
  SERVICE_TOKEN_PATH,
  type ServiceTokenSource,
  type ServiceTokenSourceOptions,
  ServiceTokenUnavailableError,
  serviceSubject,
  serviceTokenSource
} from './service-tokens.js'
export {
  ACCESS_TOKEN_ALGORITHM,
  type AccessTokenVerifierOptions,
  createAccessTokenVerifier,
  type Identity,
  InvalidTokenError,
  KeysUnavailableError,
  type PublicKeyResolver
} from './verifier.js'
