// The whole system as `npm start` runs it: all six services as their own processes (their real
// entry points), on free ports, against the test Kafka and MongoDB-wire servers, with an SMTP
// server in the test receiving the notification service's mail.
import { randomBytes } from 'node:crypto'
import { eventually, freePort, type ServiceProcess, spawnService, uniqueDatabaseUrl } from './index.js'
import { smsWebhook, smtpInbox } from './mail.js'

interface Teardown {
  teardown(fn: () => unknown): void
}

export const ADMIN = { email: 'admin@e2e.polyshop.test', password: 'e2e-admin-password' }

export interface WholeStack {
  gateway: string
  orderGrpc: string
  /** Every service's own address (http://127.0.0.1:port), e.g. product for direct calls. */
  urls: Record<string, string>
  /** Each service's MONGODB_URL (its own database). */
  databases: Record<string, string>
  mails: Awaited<ReturnType<typeof smtpInbox>>['mails']
  /** The SMTP server's misbehaviour, for fault tests. */
  setSmtpFault: Awaited<ReturnType<typeof smtpInbox>>['setFault']
  /** What the SMS webhook received. */
  sms: Awaited<ReturnType<typeof smsWebhook>>['calls']
  /**
   * Stops a service (SIGTERM: drained; SIGKILL: as a crash) and returns a function that starts
   * it again on the same ports, database and environment, resolving once it answers /healthz.
   */
  stop: (name: string, signal?: NodeJS.Signals) => Promise<() => Promise<void>>
  /** The current process of each service (replaced by a restart). */
  processes: Record<string, ServiceProcess>
}

async function healthy(url: string, process: ServiceProcess, what: string): Promise<void> {
  let exited: number | null | undefined
  void process.exited.then((code) => {
    exited = code
  })
  await eventually(
    async () => {
      if (exited !== undefined) throw new Error(`${what}: it exited with ${exited}; its output:\n${process.output()}`)
      return (await fetch(url, { signal: AbortSignal.timeout(1000) }).catch(() => undefined))?.ok ? true : undefined
    },
    90_000,
    what
  ).catch((error: unknown) => {
    throw error instanceof Error && error.message.startsWith('timed out')
      ? new Error(`${error.message}; its output:\n${process.output()}`)
      : error
  })
}

export interface WholeStackOptions {
  /** Each service's LOG_LEVEL (warn: quiet tests). */
  logLevel?: string
  /** Extra environment per service, e.g. { gateway: { RATE_LIMIT_PER_MINUTE: '1000000' } }. */
  env?: Record<string, Record<string, string>>
  /** Extra node options per service, e.g. { order: ['--cpu-prof'] } (see spawnService). */
  nodeArgs?: Record<string, string[]>
}

export async function startWholeStack(t: Teardown, options: WholeStackOptions = {}): Promise<WholeStack> {
  const inbox = await smtpInbox(t)
  const sms = await smsWebhook(t)
  const ports = {
    user: await freePort(),
    product: await freePort(),
    productGrpc: await freePort(),
    order: await freePort(),
    orderGrpc: await freePort(),
    recommendation: await freePort(),
    notification: await freePort(),
    gateway: await freePort(),
    gatewayManagement: await freePort()
  }
  const url = (port: number) => `http://127.0.0.1:${port}`
  const orderClientSecret = randomBytes(24).toString('base64url')
  const common = {
    HOST: '127.0.0.1',
    LOG_LEVEL: options.logLevel ?? 'warn',
    KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '',
    USER_SERVICE_URL: url(ports.user),
    JWT_ISSUER: 'polyshop-user',
    JWT_AUDIENCE: 'polyshop'
  }
  const env: Record<string, Record<string, string>> = {
    user: {
      PORT: String(ports.user),
      MONGODB_URL: uniqueDatabaseUrl('e2e_user'),
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      PASSWORD_HASH_COST: '14',
      SERVICE_CLIENTS: `order:${orderClientSecret}`,
      TRUST_PROXY: '127.0.0.1'
    },
    product: {
      PORT: String(ports.product),
      GRPC_PORT: String(ports.productGrpc),
      MONGODB_URL: uniqueDatabaseUrl('e2e_product'),
      SEED_DEMO_CATALOG: 'true'
    },
    order: {
      PORT: String(ports.order),
      GRPC_PORT: String(ports.orderGrpc),
      MONGODB_URL: uniqueDatabaseUrl('e2e_order'),
      PRODUCT_GRPC_URL: url(ports.productGrpc),
      SERVICE_CLIENT_SECRET: orderClientSecret
    },
    recommendation: {
      PORT: String(ports.recommendation),
      MONGODB_URL: uniqueDatabaseUrl('e2e_recommendation'),
      PRODUCT_SERVICE_URL: url(ports.product),
      PRODUCT_CACHE_TTL_MS: '0',
      MAX_ATTEMPTS: '2'
    },
    notification: {
      PORT: String(ports.notification),
      MONGODB_URL: uniqueDatabaseUrl('e2e_notification'),
      SMTP_URL: inbox.url,
      SMS_WEBHOOK_URL: sms.url,
      // Orders of users other test files made (on the same topics) cannot be mailed: park them at once.
      MAX_ATTEMPTS: '1'
    },
    gateway: {
      PORT: String(ports.gateway),
      MANAGEMENT_PORT: String(ports.gatewayManagement),
      PRODUCT_SERVICE_URL: url(ports.product),
      ORDER_GRPC_URL: url(ports.orderGrpc),
      RECOMMENDATION_URL: `${url(ports.recommendation)}/graphql`,
      DOWNSTREAM_TIMEOUT_MS: '3000'
    }
  }
  const processes: Record<string, ServiceProcess> = {}
  const healthPorts: Record<string, number> = {
    user: ports.user,
    product: ports.product,
    order: ports.order,
    recommendation: ports.recommendation,
    notification: ports.notification,
    gateway: ports.gateway
  }
  const start = async (name: string, port: number) => {
    processes[name] = spawnService(t, name, { ...common, ...env[name], ...options.env?.[name] }, options.nodeArgs?.[name])
    await healthy(`${url(port)}/healthz`, processes[name], `${name} to answer`)
  }
  // All at once (each fetches what it needs from the others lazily), then wait for readiness through the gateway.
  await Promise.all([
    start('user', ports.user),
    start('product', ports.product),
    start('order', ports.order),
    start('recommendation', ports.recommendation),
    start('notification', ports.notification),
    start('gateway', ports.gateway)
  ])
  await healthy(`${url(ports.gateway)}/readyz`, processes.gateway as ServiceProcess, 'every service to be ready behind the gateway')

  return {
    gateway: url(ports.gateway),
    orderGrpc: url(ports.orderGrpc),
    databases: Object.fromEntries(
      Object.entries(env).flatMap(([name, vars]) => (vars.MONGODB_URL === undefined ? [] : [[name, vars.MONGODB_URL]]))
    ),
    urls: {
      user: url(ports.user),
      product: url(ports.product),
      productGrpc: url(ports.productGrpc),
      order: url(ports.order),
      recommendation: url(ports.recommendation),
      notification: url(ports.notification),
      gateway: url(ports.gateway),
      gatewayManagement: url(ports.gatewayManagement)
    },
    mails: inbox.mails,
    setSmtpFault: inbox.setFault,
    sms: sms.calls,
    processes,
    stop: async (name, signal = 'SIGTERM') => {
      const running = processes[name]
      const port = healthPorts[name]
      if (running === undefined || port === undefined) throw new Error(`no service ${name}`)
      if (running.child.exitCode === null && running.child.signalCode === null) {
        running.child.kill(signal)
        await running.exited
      }
      return () => start(name, port)
    }
  }
}
