import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'

export interface MetricsOptions {
  /** Added to every metric as `service`. */
  service: string
  /** Where Prometheus scrapes; default /metrics. false: not on this app (serve `app.metrics` elsewhere, see metricsRoute). */
  path?: string | false
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The service's Prometheus registry, for metrics of its own (outbox lag, consumer lag …). */
    metrics: Registry
  }
}

/**
 * Prometheus metrics: Node.js process defaults and `http_request_duration_seconds` by method,
 * route pattern (never the raw URL, so ids do not explode the series) and status code.
 * Each app instance gets its own registry, so tests can build many.
 */
export const metrics = fp<MetricsOptions>(
  async (app: FastifyInstance, options) => {
    const registry = new Registry()
    registry.setDefaultLabels({ service: options.service })
    collectDefaultMetrics({ register: registry })
    const duration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by method, route and status code',
      labelNames: ['method', 'route', 'status_code'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry]
    })
    app.decorate('metrics', registry)
    app.addHook('onResponse', async (request, reply) => {
      duration.observe(
        { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: String(reply.statusCode) },
        reply.elapsedTime / 1000
      )
    })
    if (options.path !== false) metricsRoute(app, registry, options.path)
  },
  { name: '@polyshop/metrics', fastify: '5.x' }
)

/** GET /metrics (or `path`) serving a registry: on the service's own port, or on a separate management port. */
export function metricsRoute(app: FastifyInstance, registry: Registry, path = '/metrics'): void {
  app.get(path, { logLevel: 'warn' }, async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()))
}

/** A gauge read when Prometheus scrapes (a count the service keeps anyway: open connections, a backlog). */
export function observedGauge(registry: Registry, name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read())
    }
  })
}
