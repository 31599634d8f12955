import { ProblemError } from '@polyshop/problem'
import type { FastifyInstance } from 'fastify'

/** A route pattern (`/api/v1/products/:id`, `/*`) as a test on a request path. */
function patternToRegExp(url: string): RegExp {
  const source = url
    .split('/')
    .map((part) => {
      if (part === '*') return '.*'
      if (part.startsWith(':')) return '[^/]+'
      return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    })
    .join('/')
  return new RegExp(`^${source}$`)
}

/**
 * A request for a path the app serves, with a method it does not, is 405 Method Not Allowed
 * with an `Allow` header listing the methods that path takes (RFC 9110 §15.5.6) — not 404,
 * which would say the resource does not exist. Call before registering routes: it learns them
 * as they are added. `prefix`: the service's problem-code prefix (GW → GW_METHOD_NOT_ALLOWED).
 */
export function useMethodNotAllowed(app: FastifyInstance, prefix: string): void {
  const routes = new Map<string, { test: RegExp; methods: Set<string> }>()
  app.addHook('onRoute', (route) => {
    const entry = routes.get(route.url) ?? { test: patternToRegExp(route.url), methods: new Set<string>() }
    for (const method of [route.method].flat()) entry.methods.add(method.toUpperCase())
    if (entry.methods.has('GET')) entry.methods.add('HEAD')
    routes.set(route.url, entry)
  })
  app.addHook('onRequest', async (request, reply) => {
    if (!request.is404) return
    const path = request.url.split('?')[0] ?? '/'
    const allowed = new Set<string>()
    for (const { test, methods } of routes.values()) if (test.test(path)) for (const method of methods) allowed.add(method)
    if (allowed.size === 0 || allowed.has(request.method)) return
    const allow = [...allowed].sort().join(', ')
    reply.header('allow', allow)
    throw new ProblemError(
      `${prefix}_METHOD_NOT_ALLOWED`,
      { status: 405, title: 'Method Not Allowed' },
      `${request.method} is not served here; this path takes ${allow}.`
    )
  })
}
