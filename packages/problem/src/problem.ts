/** One invalid input, as the `errors` extension member of a validation problem. */
export interface InvalidParam {
  /** JSON Pointer (RFC 6901) into the request part, e.g. "/items/0/quantity". */
  pointer: string
  /** Which part of the request: body, query, params or headers. */
  in: string
  detail: string
}

/** RFC 9457 problem details, with polyshop's `code` extension for machines. */
export interface ProblemDetails {
  type: string
  title: string
  status: number
  detail?: string
  instance?: string
  code: string
  errors?: InvalidParam[]
  [extension: string]: unknown
}

export interface ProblemDefinition {
  status: number
  title: string
}

/** Problem type URIs are relative references (RFC 9457 §3.1.1) under /problems/. */
export function problemType(code: string): string {
  return `/problems/${code.toLowerCase().replaceAll('_', '-')}`
}

/**
 * An error that knows how it is shown to a client. Its `detail` is written for the client:
 * never put internals (queries, stack traces, upstream bodies) into it.
 */
export class ProblemError extends Error {
  override name = 'ProblemError'
  readonly status: number
  readonly code: string
  readonly title: string
  readonly detail: string | undefined
  readonly extensions: Record<string, unknown>

  constructor(
    code: string,
    definition: ProblemDefinition,
    detail?: string,
    extensions: Record<string, unknown> = {},
    options?: ErrorOptions
  ) {
    super(detail ?? definition.title, options)
    this.code = code
    this.status = definition.status
    this.title = definition.title
    this.detail = detail
    this.extensions = extensions
  }

  toProblem(instance?: string): ProblemDetails {
    return {
      ...this.extensions,
      type: problemType(this.code),
      title: this.title,
      status: this.status,
      ...(this.detail === undefined ? {} : { detail: this.detail }),
      ...(instance === undefined ? {} : { instance }),
      code: this.code
    }
  }
}

type ProblemFactory = (detail?: string, extensions?: Record<string, unknown>, options?: ErrorOptions) => ProblemError

/**
 * A service's table of errors, one place per service (STYLE.md §4). Codes get the service
 * prefix: `defineProblems('USR', { EMAIL_TAKEN: … })` makes `USR_EMAIL_TAKEN`.
 */
export function defineProblems<const Table extends Record<string, ProblemDefinition>>(
  prefix: string,
  table: Table
): { [K in keyof Table]: ProblemFactory } & { readonly codes: { [K in keyof Table]: string } } {
  if (!/^[A-Z]{2,4}$/.test(prefix)) throw new TypeError(`problem prefix must be 2-4 capital letters, got "${prefix}"`)
  const factories: Record<string, ProblemFactory> = {}
  const codes: Record<string, string> = {}
  for (const [key, definition] of Object.entries(table)) {
    const code = `${prefix}_${key}`
    codes[key] = code
    factories[key] = (detail, extensions, options) => new ProblemError(code, definition, detail, extensions, options)
  }
  return Object.assign(factories, { codes }) as never
}
