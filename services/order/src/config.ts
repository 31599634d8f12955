import { env, kafkaVariables, loadConfigOrExit, mongoVariables, Type, tokenVerificationVariables } from '@polyshop/config'
import type { Static } from 'typebox'

export const OrderConfigSchema = Type.Object({
  PORT: env.port(3003),
  GRPC_PORT: env.port(50051),
  HOST: env.host(),
  LOG_LEVEL: env.logLevel(),
  ...mongoVariables,
  ...tokenVerificationVariables,
  ...kafkaVariables,
  PRODUCT_GRPC_URL: Type.String({
    pattern: '^https?://[^\\s]+$',
    default: 'http://127.0.0.1:50052',
    description: "the product service's gRPC address"
  }),
  SERVICE_CLIENT_ID: Type.String({
    pattern: '^[a-z][a-z0-9-]*$',
    default: 'order',
    description: 'the name this service presents to the user service for its service token'
  }),
  SERVICE_CLIENT_SECRET: Type.String({
    minLength: 24,
    description: 'its secret, as listed in the user service SERVICE_CLIENTS (the product service serves reservations only with that token)'
  }),
  UNPAID_ORDER_TTL_SECONDS: Type.Integer({
    minimum: 60,
    maximum: 30 * 86_400,
    default: 1800,
    description: 'seconds an order may stay unpaid before it is cancelled and its stock released'
  }),
  MAX_UNPAID_ORDERS: Type.Integer({ minimum: 1, maximum: 1000, default: 5, description: "a user's unpaid orders at most" }),
  MAX_HELD_UNITS: Type.Integer({
    minimum: 1,
    maximum: 100_000,
    default: 100,
    description: "units a user's unpaid orders may hold in all"
  }),
  RECOVERY_INTERVAL_SECONDS: Type.Integer({
    minimum: 1,
    maximum: 3600,
    default: 60,
    description: 'how often unpaid orders past their time are expired and stock held by interrupted attempts is given back'
  }),
  INTERRUPTED_ORDER_GRACE_SECONDS: Type.Integer({
    minimum: 10,
    maximum: 86_400,
    default: 120,
    description:
      'an order attempt that died between reserving stock and storing the order is given up (its stock released, its idempotency key freed) once this old: long enough that its write can no longer land'
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
