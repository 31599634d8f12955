import { Code, ConnectError, type Interceptor } from '@connectrpc/connect'
import {
  type Identity,
  InvalidTokenError,
  KeysUnavailableError,
  SERVICE_ROLE,
  type ServiceTokenSource,
  ServiceTokenUnavailableError,
  serviceSubject
} from '@polyshop/auth'

/** The caller of a gRPC call, from its `authorization: Bearer …` metadata; UNAUTHENTICATED without a valid token. */
export async function bearerIdentity(header: Headers, verify: (token: string) => Promise<Identity>): Promise<Identity> {
  const value = header.get('authorization') ?? ''
  if (!value.startsWith('Bearer ')) throw new ConnectError('an access token is required', Code.Unauthenticated)
  try {
    return await verify(value.slice('Bearer '.length).trim())
  } catch (error) {
    if (error instanceof InvalidTokenError) throw new ConnectError(`the access token was refused: ${error.message}`, Code.Unauthenticated)
    if (error instanceof KeysUnavailableError) throw new ConnectError('access tokens cannot be checked right now', Code.Unavailable)
    throw error
  }
}

/**
 * Only polyshop's own services may call these gRPC services, each only the ones it is allowed:
 * a service token (verified for the internal audience, role `service`) whose subject is one of
 * the named callers. No token or a bad one: UNAUTHENTICATED; a user's token or another
 * service's: PERMISSION_DENIED. Services not listed (grpc.health.v1) stay open.
 * `callers`: fully qualified service name → the names of the services allowed to call it.
 */
export function requireServiceCallers(
  verify: (token: string) => Promise<Identity>,
  callers: Record<string, readonly string[]>
): Interceptor {
  const subjects = new Map(Object.entries(callers).map(([service, names]) => [service, new Set(names.map(serviceSubject))]))
  return (next) => async (request) => {
    const allowed = subjects.get(request.service.typeName)
    if (allowed === undefined) return await next(request)
    const identity = await bearerIdentity(request.header, verify)
    if (!identity.roles.includes(SERVICE_ROLE) || !allowed.has(identity.userId)) {
      throw new ConnectError(`${identity.userId} may not call ${request.service.typeName}`, Code.PermissionDenied)
    }
    return await next(request)
  }
}

/**
 * Client side: every call carries the service's own token. A call refused as UNAUTHENTICATED
 * (the token expired early or its key was rotated) is sent once more with a fresh token — only
 * use it for idempotent calls, as polyshop's internal ones are.
 */
export function serviceTokenInterceptor(source: ServiceTokenSource): Interceptor {
  const withToken = async (request: Parameters<Parameters<Interceptor>[0]>[0]) => {
    try {
      request.header.set('authorization', `Bearer ${await source.token()}`)
    } catch (error) {
      if (error instanceof ServiceTokenUnavailableError)
        throw new ConnectError(error.message, Code.Unavailable, undefined, undefined, error)
      throw error
    }
    return request
  }
  return (next) => async (request) => {
    try {
      return await next(await withToken(request))
    } catch (error) {
      // A stream's messages are spent by the first attempt: only unary calls are sent again.
      if (request.stream || ConnectError.from(error).code !== Code.Unauthenticated) throw error
      source.invalidate()
      return await next(await withToken(request))
    }
  }
}
