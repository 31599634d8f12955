import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { authentication, createAccessTokenVerifier, type PublicKeyResolver, type RevocationList } from '@polyshop/auth'
import { EventConsumer } from '@polyshop/events'
import { healthRoutes, mongoPing, SERVICE_FASTIFY_OPTIONS, useStrictValidation } from '@polyshop/lifecycle'
import { metrics } from '@polyshop/metrics'
import { problemHandling } from '@polyshop/problem'
import Fastify, { type FastifyInstance } from 'fastify'
import type { Kafka } from 'kafkajs'
import type { Db } from 'mongodb'
import type { Logger } from 'pino'
import type { EmailSender, SmsSender } from './channels/channels.js'
import type { NotificationConfig } from './config.js'
import { Notifier } from './domain/notifier.js'
import { notificationRoutes } from './routes/notifications.js'

export interface NotificationServiceOptions {
  config: NotificationConfig
  db: Db
  kafka: Kafka
  logger: Logger
  email: EmailSender
  sms: SmsSender
  resolveKey: PublicKeyResolver
  /** Ended sessions and disabled accounts (the user service's feed): their tokens are refused. */
  revocations?: RevocationList
  /** DESIGN's topics; tests pass their own. */
  topics?: { users: string; orders: string; deadLetters: string }
  groupId?: string
  isShuttingDown?: () => boolean
}

export interface NotificationService {
  http: FastifyInstance
  consumer: EventConsumer
  notifier: Notifier
}

export async function buildNotificationService(options: NotificationServiceOptions): Promise<NotificationService> {
  const { config, db, logger } = options
  const topics = options.topics ?? { users: 'user.events', orders: 'order.events', deadLetters: 'notification.dlq' }
  const notifier = new Notifier(db, options.email, options.sms, logger)
  await notifier.ensureIndexes()
  const consumer = new EventConsumer({
    kafka: options.kafka,
    groupId: options.groupId ?? 'notification',
    topics: [topics.users, topics.orders],
    deadLetterTopic: topics.deadLetters,
    logger,
    maxAttempts: config.MAX_ATTEMPTS,
    handle: (event) => notifier.handle(event)
  })

  const http = Fastify({ ...SERVICE_FASTIFY_OPTIONS, loggerInstance: logger }).withTypeProvider<TypeBoxTypeProvider>()
  useStrictValidation(http as unknown as FastifyInstance)
  await http.register(problemHandling, { prefix: 'NTF' })
  await http.register(metrics, { service: 'notification' })
  await http.register(authentication, {
    prefix: 'NTF',
    verify: createAccessTokenVerifier({
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      resolveKey: options.resolveKey,
      ...(options.revocations === undefined ? {} : { revocations: options.revocations })
    })
  })
  await http.register(healthRoutes, { checks: { mongodb: mongoPing(db) }, isShuttingDown: options.isShuttingDown ?? (() => false) })
  await http.register(notificationRoutes, { notifier })
  return { http: http as unknown as FastifyInstance, consumer, notifier }
}
