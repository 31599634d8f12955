import { existsSync } from 'node:fs'
import { join } from 'node:path'
import fastifyStatic from '@fastify/static'
import type { FastifyInstance } from 'fastify'
import { PAGES } from '../../storefront/src/routes.js'
import { errors } from '../errors.js'

/**
 * The storefront's pages may load only this site's scripts, styles and API; pictures may also come
 * from https (product images are paths here or https addresses). No inline script, no framing.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' https: data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'"
].join('; ')

/**
 * The built storefront (services/gateway/storefront → public, by `npm run build`): its files,
 * and index.html at every page path the client router knows, so reloads and shared links work
 * while any other path stays a 404 problem. Hashed assets are cached for a year; pages are
 * revalidated on every visit, so a deploy shows at once.
 */
function cacheControl(path: string): string {
  if (path.endsWith('index.html')) return 'no-cache'
  // Vite names what it builds by content hash: a new build is a new name.
  if (/[\\/]assets[\\/]/.test(path)) return 'public, max-age=31536000, immutable'
  return 'public, max-age=300'
}

export async function storefront(app: FastifyInstance, options: { root: string }): Promise<void> {
  const pages = [...new Set(Object.values(PAGES))]
  if (!existsSync(join(options.root, 'index.html'))) {
    app.log.warn({ root: options.root }, 'no built storefront here: run `npm run build`; the API works without it')
    for (const path of pages) {
      app.get(path, { schema: { hide: true } }, async () => {
        throw errors.STOREFRONT_NOT_BUILT('The storefront is not built on this server; the API is at /api/v1 and /graphql.')
      })
    }
    return
  }
  await app.register(fastifyStatic, {
    root: options.root,
    prefix: '/',
    wildcard: false,
    index: false,
    cacheControl: false,
    setHeaders: (reply, path) => {
      reply.header('x-content-type-options', 'nosniff')
      reply.header('cache-control', cacheControl(path))
    }
  })
  for (const path of pages) {
    app.get(path, { schema: { hide: true } }, (_request, reply) =>
      reply
        .header('content-security-policy', CONTENT_SECURITY_POLICY)
        .header('referrer-policy', 'same-origin')
        .header('x-frame-options', 'DENY')
        .sendFile('index.html')
    )
  }
}
