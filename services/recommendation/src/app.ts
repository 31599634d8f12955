import { createAccessTokenVerifier, type PublicKeyResolver, type RevocationList } from '@polyshop/auth'
import { ProductCatalogClient, RestClient } from '@polyshop/downstream'
import { EventConsumer } from '@polyshop/events'
import { graphqlHardeningFromConfig } from '@polyshop/graphql'
import { healthRoutes, mongoPing, SERVICE_FASTIFY_OPTIONS } from '@polyshop/lifecycle'
import { metrics, observedGauge } from '@polyshop/metrics'
import { problemHandling } from '@polyshop/problem'
import Fastify, { type FastifyInstance } from 'fastify'
import type { Kafka } from 'kafkajs'
import mercurius from 'mercurius'
import type { Db } from 'mongodb'
import type { Logger } from 'pino'
import type { RecommendationConfig } from './config.js'
import { Learner } from './domain/learner.js'
import { RecommendationModel } from './domain/model.js'
import { Purchases } from './domain/purchases.js'
import { Recommender } from './domain/recommender.js'
import { Caller } from './graphql/caller.js'
import { resolvers, typeDefs } from './graphql/schema.js'

export interface RecommendationServiceOptions {
  config: RecommendationConfig
  db: Db
  kafka: Kafka
  logger: Logger
  resolveKey: PublicKeyResolver
  /** Ended sessions and disabled accounts (the user service's feed): their tokens are refused. */
  revocations?: RevocationList
  /** DESIGN's topics; tests pass their own. */
  topics?: { orders: string; deadLetters: string }
  groupId?: string
  isShuttingDown?: () => boolean
}

export interface RecommendationService {
  http: FastifyInstance
  consumer: EventConsumer
  learner: Learner
  model: RecommendationModel
  purchases: Purchases
  close: () => Promise<void>
}

export async function buildRecommendationService(options: RecommendationServiceOptions): Promise<RecommendationService> {
  const { config, db, logger } = options
  const topics = options.topics ?? { orders: 'order.events', deadLetters: 'recommendation.dlq' }
  const purchases = new Purchases(db)
  await purchases.ensureIndexes()
  const model = new RecommendationModel({
    halfLifeMs: config.POPULARITY_HALF_LIFE_HOURS * 3_600_000,
    horizonMs: config.HISTORY_DAYS * 86_400_000
  })
  const rest = new RestClient({
    baseUrl: config.PRODUCT_SERVICE_URL,
    service: 'product',
    prefix: 'REC',
    timeoutMs: config.DOWNSTREAM_TIMEOUT_MS
  })
  const catalog = new ProductCatalogClient(rest, { cacheTtlMs: config.PRODUCT_CACHE_TTL_MS })
  const learner = new Learner({ purchases, model, catalog, logger })
  await learner.sync()
  const consumer = new EventConsumer({
    kafka: options.kafka,
    groupId: options.groupId ?? 'recommendation',
    topics: [topics.orders],
    deadLetterTopic: topics.deadLetters,
    logger,
    maxAttempts: config.MAX_ATTEMPTS,
    handle: (event) => learner.handle(event)
  })
  const recommender = new Recommender(model, catalog)
  const verify = createAccessTokenVerifier({
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    resolveKey: options.resolveKey,
    ...(options.revocations === undefined ? {} : { revocations: options.revocations })
  })

  const http = Fastify({ ...SERVICE_FASTIFY_OPTIONS, loggerInstance: logger, bodyLimit: 64 * 1024 })
  await http.register(problemHandling, { prefix: 'REC' })
  await http.register(metrics, { service: 'recommendation' })
  observedGauge(
    http.metrics,
    'recommendation_model_orders',
    'orders the model counts: placed within its horizon and not cancelled, each once however often its events arrived',
    () => model.orderCount
  )
  await http.register(healthRoutes, { checks: { mongodb: mongoPing(db) }, isShuttingDown: options.isShuttingDown ?? (() => false) })
  await http.register(mercurius, {
    schema: typeDefs,
    resolvers: resolvers(recommender) as never,
    path: '/graphql',
    context: (request) => ({ caller: new Caller(request, verify) }),
    ...graphqlHardeningFromConfig(config)
  })

  // Other replicas' purchases, and the horizon moving on.
  const sync = setInterval(() => {
    learner.sync().catch((error: unknown) => logger.warn({ err: error }, 'recommendation model sync failed; will retry'))
  }, config.MODEL_SYNC_INTERVAL_MS)
  sync.unref()
  const sweep = setInterval(() => {
    purchases
      .deletePlacedBefore(new Date(Date.now() - config.HISTORY_DAYS * 86_400_000 - 86_400_000))
      .catch((error: unknown) => logger.warn({ err: error }, 'purchase sweep failed; will retry'))
  }, 60 * 60_000)
  sweep.unref()

  return {
    http: http as unknown as FastifyInstance,
    consumer,
    learner,
    model,
    purchases,
    close: async () => {
      clearInterval(sync)
      clearInterval(sweep)
      await rest.close()
    }
  }
}
