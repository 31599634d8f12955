import { env, graphqlVariables, kafkaVariables, loadConfigOrExit, mongoVariables, Type, tokenVerificationVariables } from '@polyshop/config'
import type { Static } from 'typebox'

export const RecommendationConfigSchema = Type.Object({
  PORT: env.port(3004),
  HOST: env.host(),
  LOG_LEVEL: env.logLevel(),
  ...mongoVariables,
  ...kafkaVariables,
  ...tokenVerificationVariables,
  PRODUCT_SERVICE_URL: Type.String({
    pattern: '^https?://[^\\s]+$',
    default: 'http://127.0.0.1:3002',
    description: "the product service's REST address"
  }),
  ...graphqlVariables,
  POPULARITY_HALF_LIFE_HOURS: Type.Number({
    minimum: 1,
    maximum: 24 * 365,
    default: 24 * 7,
    description: 'hours after which a purchase counts half as much towards "popular now"'
  }),
  HISTORY_DAYS: Type.Integer({ minimum: 1, maximum: 3650, default: 180, description: 'days of purchases the model learns from' }),
  PRODUCT_CACHE_TTL_MS: Type.Integer({
    minimum: 0,
    maximum: 600_000,
    default: 10_000,
    description: 'how long product details from the catalog are reused, in ms (0: never)'
  }),
  MODEL_SYNC_INTERVAL_MS: Type.Integer({
    minimum: 100,
    maximum: 600_000,
    default: 5000,
    description: "how often purchases recorded by other replicas are read into this one's model, in ms"
  }),
  DOWNSTREAM_TIMEOUT_MS: Type.Integer({
    minimum: 100,
    maximum: 60_000,
    default: 3000,
    description: 'the deadline of each catalog call, in ms'
  }),
  MAX_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 20, default: 5, description: 'tries per event before it goes to recommendation.dlq' })
})

export type RecommendationConfig = Static<typeof RecommendationConfigSchema>

export function loadRecommendationConfig(environment: NodeJS.ProcessEnv = process.env): RecommendationConfig {
  return loadConfigOrExit('recommendation', RecommendationConfigSchema, environment)
}
