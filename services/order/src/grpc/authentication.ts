import { Code, ConnectError, type Interceptor } from '@connectrpc/connect'
import { type Identity, InvalidTokenError, KeysUnavailableError } from '@polyshop/auth'
import { OrderService } from '@polyshop/proto'
import { identityKey } from './order-service.js'

/**
 * Every OrderService call carries the caller's access token in the `authorization`
 * metadata, forwarded by the gateway; this service verifies it itself. Health checks need none.
 */
export function authenticationInterceptor(verify: (token: string) => Promise<Identity>): Interceptor {
  return (next) => async (request) => {
    if (request.service.typeName !== OrderService.typeName) return await next(request)
    const header = request.header.get('authorization') ?? ''
    if (!header.startsWith('Bearer ')) throw new ConnectError('an access token is required', Code.Unauthenticated)
    try {
      request.contextValues.set(identityKey, await verify(header.slice('Bearer '.length).trim()))
    } catch (error) {
      if (error instanceof InvalidTokenError) throw new ConnectError(`the access token was refused: ${error.message}`, Code.Unauthenticated)
      if (error instanceof KeysUnavailableError) throw new ConnectError('access tokens cannot be checked right now', Code.Unavailable)
      throw error
    }
    return await next(request)
  }
}
