import { env, loadConfigOrExit, Type } from '@polyshop/config'
import type { Static } from 'typebox'

export const ProductConfigSchema = Type.Object({
  PORT: env.port(3002),
  GRPC_PORT: env.port(50052),
  HOST: env.host(),
  LOG_LEVEL: env.logLevel(),
  MONGODB_URL: env.mongoUrl(),
  JWT_ISSUER: Type.String({ minLength: 1, default: 'polyshop-user', description: 'the iss claim of access tokens' }),
  JWT_AUDIENCE: Type.String({ minLength: 1, default: 'polyshop', description: 'the aud claim of access tokens' }),
  USER_SERVICE_URL: Type.String({
    pattern: '^https?://[^\\s]+$',
    default: 'http://127.0.0.1:3001',
    description: 'the user service, whose JWKS verifies admin tokens'
  }),
  CATALOG_CURRENCY: Type.String({ pattern: '^[A-Z]{3}$', default: 'EUR', description: 'the ISO 4217 currency every price is in' }),
  SEED_DEMO_CATALOG: env.flag(false)
})

export type ProductConfig = Static<typeof ProductConfigSchema>

export function loadProductConfig(environment: NodeJS.ProcessEnv = process.env): ProductConfig {
  return loadConfigOrExit('product', ProductConfigSchema, environment)
}
