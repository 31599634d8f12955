import type { ForwardedHeaders } from '@polyshop/downstream'
import type { FastifyRequest } from 'fastify'

/** What every call the gateway makes on a request's behalf carries: its id, its trace, the client's address, and the caller's token if any. */
export function forwardedHeaders(request: FastifyRequest): ForwardedHeaders {
  const { traceparent, authorization } = request.headers
  return {
    'x-request-id': String(request.id),
    'x-forwarded-for': request.ip,
    ...(typeof traceparent === 'string' ? { traceparent } : {}),
    ...(typeof authorization === 'string' ? { authorization } : {})
  }
}
