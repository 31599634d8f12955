import type { FastifyPluginAsync } from 'fastify'

export interface HealthRoutesOptions {
  /** Named dependencies that must answer for the service to be ready, e.g. { mongodb: ping }. */
  checks: Record<string, () => Promise<boolean>>
  isShuttingDown: () => boolean
  /** See cachedChecks. Default 1000; 0 checks on every request. */
  cacheMs?: number
  /**
   * The checks as cachedChecks(checks, cacheMs) runs them; pass one to share it between ports
   * (the gateway's public and management ports ask the services once a second between them).
   */
  readiness?: () => Promise<string[]>
}

const status = { type: 'object', properties: { status: { type: 'string' } }, required: ['status'], additionalProperties: false } as const

/**
 * Runs the checks and names the failing ones. The outcome is reused for `cacheMs` and concurrent
 * callers share one round: however often readiness is asked, the dependencies are asked at most
 * once per period.
 */
export function cachedChecks(checks: Record<string, () => Promise<boolean>>, cacheMs = 1000): () => Promise<string[]> {
  const runChecks = async () =>
    (
      await Promise.all(
        Object.entries(checks).map(async ([name, check]) => ((await check().catch(() => false)) ? undefined : `${name} is not reachable`))
      )
    ).filter((reason): reason is string => reason !== undefined)
  let last: { at: number; failing: Promise<string[]> } | undefined
  return () => {
    if (last === undefined || Date.now() - last.at >= cacheMs) last = { at: Date.now(), failing: runChecks() }
    return last.failing
  }
}

/**
 * GET /healthz: the process answers (liveness). GET /readyz: it can serve now (readiness):
 * every check passes and it is not draining; otherwise 503 problem+json naming what failed.
 */
export const healthRoutes: FastifyPluginAsync<HealthRoutesOptions> = async (app, { checks, isShuttingDown, cacheMs = 1000, readiness }) => {
  app.get('/healthz', { logLevel: 'warn', schema: { response: { 200: status } } }, async () => ({ status: 'ok' }))

  const checked = readiness ?? cachedChecks(checks, cacheMs)

  app.get('/readyz', { logLevel: 'warn' }, async (request, reply) => {
    const failing = isShuttingDown() ? ['shutting down'] : await checked()
    if (failing.length === 0) return { status: 'ready' }
    request.log.warn({ failing }, 'not ready')
    return reply
      .code(503)
      .type('application/problem+json')
      .send({
        type: '/problems/not-ready',
        title: 'Service Unavailable',
        status: 503,
        detail: `Not ready: ${failing.join(', ')}.`,
        code: 'NOT_READY'
      })
  })
}

/** A readiness check for MongoDB. */
export function mongoPing(db: { command(command: object, options?: object): Promise<unknown> }): () => Promise<boolean> {
  return async () => {
    await db.command({ ping: 1 }, { timeoutMS: 1000 })
    return true
  }
}
