import { env, loadConfigOrExit, Type } from '@polyshop/config'
import type { Static } from 'typebox'

export const OrderConfigSchema = Type.Object({
  PORT: env.port(3003),
  GRPC_PORT: env.port(50051),
  HOST: env.host(),
  LOG_LEVEL: env.logLevel(),
  MONGODB_URL: env.mongoUrl(),
  KAFKA_BROKERS: env.kafkaBrokers(),
  JWT_ISSUER: Type.String({ minLength: 1, default: 'polyshop-user', description: 'the iss claim of access tokens' }),
  JWT_AUDIENCE: Type.String({ minLength: 1, default: 'polyshop', description: 'the aud claim of access tokens' }),
  USER_SERVICE_URL: Type.String({
    pattern: '^https?://[^\\s]+$',
    default: 'http://127.0.0.1:3001',
    description: 'the user service, whose JWKS verifies tokens'
  }),
  PRODUCT_GRPC_URL: Type.String({
    pattern: '^https?://[^\\s]+$',
    default: 'http://127.0.0.1:50052',
    description: "the product service's gRPC address"
  }),
  DOWNSTREAM_TIMEOUT_MS: Type.Integer({
    minimum: 100,
    maximum: 60_000,
    default: 3000,
    description: 'the deadline of each call to the product service, in ms'
  })
})

export type OrderConfig = Static<typeof OrderConfigSchema>

export function loadOrderConfig(environment: NodeJS.ProcessEnv = process.env): OrderConfig {
  return loadConfigOrExit('order', OrderConfigSchema, environment)
}
