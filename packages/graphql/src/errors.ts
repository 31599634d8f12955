import { ProblemError } from '@polyshop/problem'
import { type ExecutionResult, GraphQLError } from 'graphql'
import mercurius, { type MercuriusContext } from 'mercurius'

const INTERNAL_MESSAGE = 'Something went wrong on our side; please retry.'

/**
 * The kind of a coded error in the words GraphQL servers commonly use (Spring GraphQL's
 * ErrorType), beside polyshop's own `code`: generic clients and tools tell a refused request
 * from a failure of ours without knowing polyshop's codes.
 */
function classification(status: number): string {
  if (status === 401) return 'UNAUTHORIZED'
  if (status === 403) return 'FORBIDDEN'
  if (status === 404) return 'NOT_FOUND'
  if (status >= 500) return status === 503 ? 'UNAVAILABLE' : 'INTERNAL_ERROR'
  return 'BAD_REQUEST'
}

/** What a client may see of a resolver's error: its own words and code for a ProblemError, nothing of anything else. */
function publicError(error: GraphQLError, log: { error: (object: object, message: string) => void }): GraphQLError {
  const original = error.originalError
  // Syntax and validation errors (no original error) describe the query itself.
  if (original === undefined || original === null) {
    const code = typeof error.extensions.code === 'string' ? error.extensions.code : 'GRAPHQL_VALIDATION_FAILED'
    return new GraphQLError(error.message, { nodes: error.nodes, path: error.path, extensions: { ...error.extensions, code } })
  }
  if (original instanceof ProblemError) {
    return new GraphQLError(original.detail ?? original.title, {
      nodes: error.nodes,
      path: error.path,
      extensions: { code: original.code, status: original.status, classification: classification(original.status), ...original.extensions }
    })
  }
  if (original instanceof mercurius.ErrorWithProps) return error
  if (original instanceof GraphQLError && typeof original.extensions.code === 'string') return error
  // Outside any field (a custom scalar refusing a variable): about the request, not us.
  if (error.path === undefined) {
    return new GraphQLError(error.message, { nodes: error.nodes, extensions: { code: 'BAD_USER_INPUT' } })
  }
  log.error({ err: original, path: error.path }, 'GraphQL resolver failed')
  return new GraphQLError(INTERNAL_MESSAGE, { nodes: error.nodes, path: error.path, extensions: { code: 'INTERNAL' } })
}

/**
 * An error a subscription's resolver throws, as the client may see it (mercurius sends
 * subscription errors without the errorFormatter): the same code and words as a query's.
 */
export function publicGraphqlError(error: unknown, field: string, log: { error: (object: object, message: string) => void }): GraphQLError {
  const wrapped =
    error instanceof GraphQLError
      ? error
      : new GraphQLError(String((error as Error)?.message ?? error), { originalError: error as Error, path: [field] })
  return publicError(wrapped, log)
}

/**
 * mercurius' errorFormatter: every error carries `extensions.code`; a resolver's ProblemError keeps
 * its code and detail (and `status`, the HTTP status the REST API gives for it); anything
 * unexpected is logged and shown as INTERNAL without its message.
 */
export function graphqlErrorFormatter(execution: ExecutionResult & { statusCode?: number }, context: MercuriusContext) {
  const log = context.reply?.log ?? context.app.log
  const flat = (execution.errors ?? []).flatMap((error) => {
    const nested = (error.originalError as { errors?: unknown } | undefined)?.errors
    return Array.isArray(nested) ? (nested as GraphQLError[]) : [error]
  })
  const errors = flat.map((error) => publicError(error instanceof GraphQLError ? error : new GraphQLError(String(error)), log))
  return mercurius.defaultErrorFormatter({ ...execution, errors }, context)
}
