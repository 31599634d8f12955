import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ProblemSchema } from '@polyshop/problem'
import type { Db } from 'mongodb'
import Type from 'typebox'

export interface HealthRoutesOptions {
  db: Db
  isShuttingDown: () => boolean
}

const Status = Type.Object({ status: Type.String() }, { additionalProperties: false })

/** /healthz: the process answers. /readyz: it can serve (MongoDB reachable, not draining). */
export const healthRoutes: FastifyPluginAsyncTypebox<HealthRoutesOptions> = async (app, { db, isShuttingDown }) => {
  app.get('/healthz', { logLevel: 'warn', schema: { response: { 200: Status } } }, async () => ({ status: 'ok' }))

  app.get('/readyz', { logLevel: 'warn', schema: { response: { 200: Status, 503: ProblemSchema } } }, async (request, reply) => {
    const problem = (detail: string) =>
      reply
        .code(503)
        .type('application/problem+json')
        .send({ type: '/problems/not-ready', title: 'Service Unavailable', status: 503, detail, code: 'NOT_READY' })
    if (isShuttingDown()) return problem('The service is shutting down.')
    const reachable = await db
      .command({ ping: 1 }, { timeoutMS: 1000 })
      .then(() => true)
      .catch((error: unknown) => {
        request.log.warn({ err: error }, 'readiness: MongoDB is not reachable')
        return false
      })
    return reachable ? { status: 'ready' } : problem('MongoDB is not reachable.')
  })
}
