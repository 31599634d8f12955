import { type Logger, type LoggerOptions, pino } from 'pino'

/**
 * What never reaches a log line: credentials in request headers, passwords and tokens in
 * bodies or objects we log, at the top level or one or two levels down.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["set-cookie"]',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'metadata.authorization',
  ...[
    'password',
    'newPassword',
    'currentPassword',
    'passwordHash',
    'token',
    'accessToken',
    'refreshToken',
    'idToken',
    'secret',
    'apiKey'
  ].flatMap((key) => [key, `*.${key}`, `*.*.${key}`])
]

export interface LoggerSettings {
  /** The service name, on every line as `service`. */
  name: string
  level?: string
  /** Extra fields on every line (version, pod name …). */
  base?: Record<string, unknown>
}

/** pino options for polyshop services; pass to Fastify as `logger` or to `createLogger`. */
export function loggerOptions(settings: LoggerSettings): LoggerOptions {
  return {
    level: settings.level ?? 'info',
    base: { service: settings.name, ...settings.base },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      // "level":"info" rather than 30, for log pipelines that do not know pino's numbers.
      level: (label) => ({ level: label })
    }
  }
}

export function createLogger(settings: LoggerSettings, destination?: pino.DestinationStream): Logger {
  return destination === undefined ? pino(loggerOptions(settings)) : pino(loggerOptions(settings), destination)
}

export type { Logger }
