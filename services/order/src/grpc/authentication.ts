import type { Interceptor } from '@connectrpc/connect'
import type { Identity } from '@polyshop/auth'
import { bearerIdentity } from '@polyshop/grpc'
import { OrderService } from '@polyshop/proto'
import { identityKey } from './order-service.js'

/**
 * Every OrderService call carries the caller's access token in the `authorization`
 * metadata, forwarded by the gateway; this service verifies it itself. Health checks need none.
 */
export function authenticationInterceptor(verify: (token: string) => Promise<Identity>): Interceptor {
  return (next) => async (request) => {
    if (request.service.typeName !== OrderService.typeName) return await next(request)
    request.contextValues.set(identityKey, await bearerIdentity(request.header, verify))
    return await next(request)
  }
}
