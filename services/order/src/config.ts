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
