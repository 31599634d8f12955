import { env, kafkaVariables, loadConfigOrExit, mongoVariables, Type, tokenVerificationVariables } from '@polyshop/config'
import type { Static } from 'typebox'

export const UserConfigSchema = Type.Object({
  PORT: env.port(3001),
  HOST: env.host(),
  LOG_LEVEL: env.logLevel(),
  ...mongoVariables,
  ...kafkaVariables,
  JWT_ISSUER: tokenVerificationVariables.JWT_ISSUER,
  JWT_AUDIENCE: tokenVerificationVariables.JWT_AUDIENCE,
  SERVICE_TOKEN_AUDIENCE: tokenVerificationVariables.SERVICE_TOKEN_AUDIENCE,
  REVOCATION_POLL_INTERVAL_MS: tokenVerificationVariables.REVOCATION_POLL_INTERVAL_MS,
  SERVICE_CLIENTS: Type.String({
    pattern: '^\\s*([a-z][a-z0-9-]*:[^,\\s]{24,}(\\s*,\\s*[a-z][a-z0-9-]*:[^,\\s]{24,})*)?\\s*$',
    default: '',
    description: 'the services that may get service tokens: name:secret pairs, comma-separated, each secret at least 24 characters'
  }),
  SERVICE_TOKEN_TTL_SECONDS: Type.Integer({ minimum: 60, maximum: 3600, default: 300, description: 'seconds, 60-3600' }),
  JWT_PRIVATE_KEY: Type.Optional(
    Type.String({
      pattern: '-----BEGIN (EC )?PRIVATE KEY-----',
      description: 'a PEM EC P-256 private key (unset: a key is generated at start)'
    })
  ),
  JWT_PREVIOUS_PUBLIC_KEYS: Type.Optional(
    Type.String({
      pattern: '-----BEGIN PUBLIC KEY-----',
      description: 'PEM public keys of retired signing keys, still published until their tokens expire'
    })
  ),
  ACCESS_TOKEN_TTL_SECONDS: Type.Integer({ minimum: 60, maximum: 3600, default: 900, description: 'seconds, 60-3600' }),
  REFRESH_TOKEN_TTL_SECONDS: Type.Integer({
    minimum: 3600,
    maximum: 90 * 24 * 3600,
    default: 30 * 24 * 3600,
    description: 'seconds, 1 hour to 90 days'
  }),
  PASSWORD_HASH_COST: Type.Integer({
    minimum: 14,
    maximum: 20,
    default: 17,
    description: 'log2 of the scrypt cost N (OWASP: 17, i.e. N=131072 with r=8, p=1)'
  }),
  PASSWORD_HASH_CONCURRENCY: Type.Integer({
    minimum: 1,
    maximum: 16,
    default: 1,
    description:
      'password hashes and checks computed at once; each holds 128 MiB at cost 17 outside the heap (size the memory limit from it)'
  }),
  PASSWORD_HASH_QUEUE: Type.Integer({
    minimum: 0,
    maximum: 1000,
    default: 8,
    description: 'sign-ins and registrations that wait for a free hash slot; beyond them, 503 with Retry-After'
  }),
  LOGIN_MAX_FAILURES: Type.Integer({
    minimum: 1,
    maximum: 100,
    default: 5,
    description: 'sign-in attempts per account and client per window; a success starts the count again'
  }),
  LOGIN_MAX_ACCOUNT_FAILURES: Type.Integer({
    minimum: 1,
    maximum: 10_000,
    default: 20,
    description: 'sign-in attempts per account per window from clients that never signed in to it (its owner is not held by this)'
  }),
  LOGIN_FAILURE_WINDOW_SECONDS: Type.Integer({ minimum: 10, maximum: 86_400, default: 900, description: 'seconds' }),
  RATE_LIMIT_PER_MINUTE: Type.Integer({ minimum: 1, maximum: 100_000, default: 30, description: 'auth requests per client IP per minute' }),
  TRUST_PROXY: env.trustProxy(),
  ADMIN_EMAIL: Type.Optional(
    Type.String({ format: 'email', maxLength: 254, description: 'the first admin account, created at start if missing' })
  ),
  ADMIN_PASSWORD: Type.Optional(Type.String({ minLength: 10, maxLength: 128, description: 'its password (10-128 characters)' }))
})

export type UserConfig = Static<typeof UserConfigSchema>

export function loadUserConfig(environment: NodeJS.ProcessEnv = process.env): UserConfig {
  return loadConfigOrExit('user', UserConfigSchema, environment)
}
