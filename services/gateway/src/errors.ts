import { Code, ConnectError } from '@connectrpc/connect'
import { upstreamProblems } from '@polyshop/downstream'
import { defineProblems, type ProblemDefinition, ProblemError } from '@polyshop/problem'

/** Every error the gateway itself answers with (codes GW_*); the services' own problems pass through unchanged. */
export const errors = defineProblems('GW', {
  // The same codes @polyshop/auth's hooks give REST routes, for GraphQL resolvers.
  UNAUTHENTICATED: { status: 401, title: 'Unauthorized' },
  FORBIDDEN: { status: 403, title: 'Forbidden' },
  KEYS_UNAVAILABLE: { status: 503, title: 'Service Unavailable' },
  RATE_LIMITED: { status: 429, title: 'Too Many Requests' },
  TOO_MANY_SUBSCRIPTIONS: { status: 429, title: 'Too Many Requests' },
  STOREFRONT_NOT_BUILT: { status: 503, title: 'Service Unavailable' },
  ...upstreamProblems
})

/**
 * The one table from gRPC status codes to HTTP problems (DESIGN.md: "the gateway maps them").
 * The code's name becomes the problem code, `ORD_` + name, so clients can tell an out-of-stock
 * FAILED_PRECONDITION from a validation INVALID_ARGUMENT without parsing text.
 */
const GRPC_TO_HTTP: Record<Code, ProblemDefinition> = {
  [Code.Canceled]: { status: 499, title: 'Client Closed Request' },
  [Code.Unknown]: { status: 502, title: 'Bad Gateway' },
  [Code.InvalidArgument]: { status: 400, title: 'Bad Request' },
  [Code.DeadlineExceeded]: { status: 504, title: 'Gateway Timeout' },
  [Code.NotFound]: { status: 404, title: 'Not Found' },
  [Code.AlreadyExists]: { status: 409, title: 'Conflict' },
  [Code.PermissionDenied]: { status: 403, title: 'Forbidden' },
  [Code.ResourceExhausted]: { status: 429, title: 'Too Many Requests' },
  [Code.FailedPrecondition]: { status: 409, title: 'Conflict' },
  [Code.Aborted]: { status: 409, title: 'Conflict' },
  [Code.OutOfRange]: { status: 400, title: 'Bad Request' },
  [Code.Unimplemented]: { status: 501, title: 'Not Implemented' },
  [Code.Internal]: { status: 502, title: 'Bad Gateway' },
  [Code.Unavailable]: { status: 503, title: 'Service Unavailable' },
  [Code.DataLoss]: { status: 502, title: 'Bad Gateway' },
  [Code.Unauthenticated]: { status: 401, title: 'Unauthorized' }
}

/** Server-side failures say nothing of the service's internals. */
const INTERNAL_CODES = new Set([Code.Unknown, Code.Internal, Code.DataLoss, Code.Unimplemented])

/** A failed call to the order service (the gateway's gRPC downstream) as the problem the client sees. */
export function problemFromOrderError(error: unknown): ProblemError {
  const service = 'order'
  const connectError = ConnectError.from(error)
  // "Unavailable, retry" reads the same whichever hop failed, and the same as over REST. A call
  // cancelled under the gateway (the order service's HTTP/2 stream reset or its process gone
  // mid-call) is that too: the client did not close anything, and a retry with the same
  // idempotency key is safe. (When the client does go away, nobody reads the answer.)
  if (connectError.code === Code.Unavailable || connectError.code === Code.Canceled) {
    return errors.UPSTREAM_UNAVAILABLE(
      `The ${service} service is unavailable; retry shortly.`,
      { grpcStatus: 'UNAVAILABLE' },
      { cause: error }
    )
  }
  if (connectError.code === Code.DeadlineExceeded) {
    return errors.UPSTREAM_TIMEOUT(
      `The ${service} service did not answer in time; retry shortly.`,
      { grpcStatus: 'DEADLINE_EXCEEDED' },
      { cause: error }
    )
  }
  const definition = GRPC_TO_HTTP[connectError.code]
  const name = Code[connectError.code].replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase()
  const detail = INTERNAL_CODES.has(connectError.code) ? `The ${service} service failed to answer.` : capitalize(connectError.rawMessage)
  return new ProblemError(`ORD_${name}`, definition, detail, { grpcStatus: name }, { cause: error })
}

function capitalize(message: string): string {
  const text = message.trim()
  if (text === '') return text
  return `${text[0]?.toUpperCase()}${text.slice(1)}${/[.!?]$/.test(text) ? '' : '.'}`
}
