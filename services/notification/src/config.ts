import { env, kafkaVariables, loadConfigOrExit, mongoVariables, Type, tokenVerificationVariables } from '@polyshop/config'
import type { Static } from 'typebox'

export const NotificationConfigSchema = Type.Object({
  PORT: env.port(3005),
  HOST: env.host(),
  LOG_LEVEL: env.logLevel(),
  ...mongoVariables,
  ...tokenVerificationVariables,
  ...kafkaVariables,
  SMTP_URL: Type.Optional(
    Type.String({
      pattern: '^smtps?://[^\\s]+$',
      description: 'an smtp:// or smtps:// URL, credentials in it if needed (unset: email is only logged)'
    })
  ),
  SMTP_FROM: Type.String({ minLength: 3, maxLength: 200, default: 'polyshop <shop@polyshop.local>', description: 'the From address' }),
  SMS_WEBHOOK_URL: Type.Optional(
    Type.String({ pattern: '^https?://[^\\s]+$', description: 'where SMS are POSTed (unset: SMS are only logged)' })
  ),
  MAX_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 20, default: 5, description: 'tries per event before it goes to notification.dlq' })
})

export type NotificationConfig = Static<typeof NotificationConfigSchema>

export function loadNotificationConfig(environment: NodeJS.ProcessEnv = process.env): NotificationConfig {
  return loadConfigOrExit('notification', NotificationConfigSchema, environment)
}
