import { env, loadConfigOrExit, mongoVariables, Type, tokenVerificationVariables } from '@polyshop/config'
import type { Static } from 'typebox'

export const ProductConfigSchema = Type.Object({
  PORT: env.port(3002),
  GRPC_PORT: env.port(50052),
  HOST: env.host(),
  LOG_LEVEL: env.logLevel(),
  ...mongoVariables,
  ...tokenVerificationVariables,
  INVENTORY_CALLERS: Type.String({
    pattern: '^[a-z][a-z0-9-]*(,[a-z][a-z0-9-]*)*$',
    default: 'order',
    description: 'the services whose service tokens may call InventoryService, comma-separated'
  }),
  CATALOG_CURRENCY: Type.String({ pattern: '^[A-Z]{3}$', default: 'EUR', description: 'the ISO 4217 currency every price is in' }),
  SEED_DEMO_CATALOG: env.flag(false)
})

export type ProductConfig = Static<typeof ProductConfigSchema>

export function loadProductConfig(environment: NodeJS.ProcessEnv = process.env): ProductConfig {
  return loadConfigOrExit('product', ProductConfigSchema, environment)
}
