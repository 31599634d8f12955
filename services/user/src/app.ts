import rateLimit from '@fastify/rate-limit'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { authentication, createAccessTokenVerifier, jwkToPem, RevocationFeed, RevocationList } from '@polyshop/auth'
import { healthRoutes, mongoPing, SERVICE_FASTIFY_OPTIONS, trustProxySetting, useStrictValidation } from '@polyshop/lifecycle'
import { metrics } from '@polyshop/metrics'
import { OutboxWriter } from '@polyshop/outbox'
import { problemHandling } from '@polyshop/problem'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import fp from 'fastify-plugin'
import type { Db } from 'mongodb'
import type { Logger } from 'pino'
import type { UserConfig } from './config.js'
import { Accounts } from './domain/accounts.js'
import { DerivationGate } from './domain/derivation-gate.js'
import { ServiceClients } from './domain/service-clients.js'
import type { SigningKeys } from './domain/signing-keys.js'
import { LoginThrottle } from './repositories/login-throttle.js'
import { RefreshTokenStore } from './repositories/refresh-tokens.js'
import { RevocationStore } from './repositories/revocations.js'
import { type UserDocument, UserRepository } from './repositories/users.js'
import { authRoutes } from './routes/auth.js'
import { revocationRoutes } from './routes/revocations.js'
import { serviceTokenRoutes } from './routes/service-tokens.js'
import { userRoutes } from './routes/users.js'
import { JwksSchema } from './schemas.js'

export interface UserServiceOptions {
  config: UserConfig
  db: Db
  keys: SigningKeys
  logger: Logger
  /** Called after each write that added events: the outbox relay's wake(). */
  onOutboxCommit?: () => void
  isShuttingDown?: () => boolean
}

declare module 'fastify' {
  interface FastifyInstance {
    accounts: Accounts
    refreshTokens: RefreshTokenStore
    revocations: RevocationStore
    loginThrottle: LoginThrottle
    passwordDerivations: DerivationGate
  }
}

/**
 * The user service as a plugin: registration, sign-in, sessions, profiles and the JWKS.
 * It never listens; server.ts does, and tests use inject() on buildApp().
 */
export const userService = fp<UserServiceOptions>(
  async (app, options) => {
    const { config, db, keys, logger } = options
    await app.register(problemHandling, { prefix: 'USR' })
    await app.register(metrics, { service: 'user' })
    // Limits are per route (config.rateLimit); only the auth routes opt in.
    await app.register(rateLimit, { global: false })
    const revocations = new RevocationStore(db, config.ACCESS_TOKEN_TTL_SECONDS)
    await revocations.ensureIndexes()
    // This service's own verifier learns of ended sessions like every other one, from the same
    // store (another replica may have recorded them), while the app runs.
    const revoked = new RevocationList()
    const feed = new RevocationFeed({
      list: revoked,
      fetchSince: (cursor) => revocations.since(cursor),
      intervalMs: config.REVOCATION_POLL_INTERVAL_MS,
      onError: (error) => logger.warn({ err: error }, 'could not read the access revocations; retrying')
    })
    app.addHook('onReady', async () => await feed.start())
    app.addHook('onClose', async () => await feed.stop())
    await app.register(authentication, {
      prefix: 'USR',
      verify: createAccessTokenVerifier({
        issuer: config.JWT_ISSUER,
        audience: config.JWT_AUDIENCE,
        revocations: revoked,
        resolveKey: async (kid) => {
          const jwk = keys.jwks.find((key) => key.kid === kid)
          return jwk === undefined ? undefined : jwkToPem(jwk)
        }
      })
    })

    const outbox = new OutboxWriter<UserDocument>({
      db,
      collection: 'users',
      logger,
      ...(options.onOutboxCommit === undefined ? {} : { onCommit: options.onOutboxCommit })
    })
    const users = new UserRepository(db, outbox)
    const refreshTokens = new RefreshTokenStore(db, config.REFRESH_TOKEN_TTL_SECONDS)
    await users.ensureIndexes()
    await refreshTokens.ensureIndexes()
    const loginThrottle = new LoginThrottle(db, {
      maxPerClient: config.LOGIN_MAX_FAILURES,
      maxPerAccount: config.LOGIN_MAX_ACCOUNT_FAILURES,
      windowSeconds: config.LOGIN_FAILURE_WINDOW_SECONDS
    })
    await loginThrottle.ensureIndexes()
    const derivations = new DerivationGate(config.PASSWORD_HASH_CONCURRENCY, config.PASSWORD_HASH_QUEUE)
    const accounts = new Accounts({
      users,
      refreshTokens,
      revocations,
      loginThrottle,
      keys,
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      accessTokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
      password: { cost: config.PASSWORD_HASH_COST, blockSize: 8, parallelization: 1 },
      derivations,
      logger
    })
    app.decorate('accounts', accounts)
    app.decorate('refreshTokens', refreshTokens)
    app.decorate('revocations', revocations)
    app.decorate('loginThrottle', loginThrottle)
    app.decorate('passwordDerivations', derivations)

    await app.register(healthRoutes, { checks: { mongodb: mongoPing(db) }, isShuttingDown: options.isShuttingDown ?? (() => false) })
    app.get('/.well-known/jwks.json', { schema: { response: { 200: JwksSchema } } }, async (_request, reply) => {
      // Verifiers cache it; a rotated-in key is published before it signs (see README).
      reply.header('cache-control', 'public, max-age=300')
      return { keys: keys.jwks }
    })
    await app.register(authRoutes, { prefix: '/api/v1/auth', accounts, rateLimitPerMinute: config.RATE_LIMIT_PER_MINUTE })
    await app.register(userRoutes, { prefix: '/api/v1/users', accounts, users })
    const serviceClients = new ServiceClients({
      clients: config.SERVICE_CLIENTS,
      keys,
      issuer: config.JWT_ISSUER,
      audience: config.SERVICE_TOKEN_AUDIENCE,
      ttlSeconds: config.SERVICE_TOKEN_TTL_SECONDS
    })
    await app.register(serviceTokenRoutes, { serviceClients, rateLimitPerMinute: config.RATE_LIMIT_PER_MINUTE })
    await app.register(revocationRoutes, { revocations })
  },
  { name: 'user-service', fastify: '5.x' }
)

export async function buildApp(options: UserServiceOptions, server: FastifyServerOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    ...SERVICE_FASTIFY_OPTIONS,
    loggerInstance: options.logger,
    trustProxy: trustProxySetting(options.config.TRUST_PROXY),
    bodyLimit: 64 * 1024,
    ...server
  }).withTypeProvider<TypeBoxTypeProvider>()
  useStrictValidation(app as unknown as FastifyInstance)
  await app.register(userService, options)
  return app as unknown as FastifyInstance
}
