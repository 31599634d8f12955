import { type ProblemDefinition, ProblemError } from '@polyshop/problem'
import { Pool, errors as undiciErrors } from 'undici'

export interface RestClientOptions {
  /** e.g. http://product:3002 */
  baseUrl: string
  /** Names the service in problems shown to clients: "the product service is unavailable". */
  service: string
  /** The calling service's problem-code prefix (GW, REC). */
  prefix: string
  /** The whole call, connect to last byte: past it the caller gets 504, never a hang. */
  timeoutMs: number
  /** Kept-alive connections to the service. */
  connections?: number
}

/** Request context passed on to the next service: who asked (request id) and the trace. */
export interface ForwardedHeaders {
  'x-request-id'?: string
  traceparent?: string
  authorization?: string
  /** The client's address, for the user service's per-IP login throttles (it trusts the gateway to say). */
  'x-forwarded-for'?: string
}

export interface RestRequest {
  method?: 'GET' | 'POST' | 'PATCH' | 'DELETE'
  path: string
  query?: Record<string, string | number | undefined>
  body?: unknown
  headers?: ForwardedHeaders
}

/** The problems a call to another service can end in, beside the ones that service answers with. */
export const upstreamProblems = {
  UPSTREAM_UNAVAILABLE: { status: 503, title: 'Service Unavailable' },
  UPSTREAM_TIMEOUT: { status: 504, title: 'Gateway Timeout' },
  UPSTREAM_FAILED: { status: 502, title: 'Bad Gateway' }
} satisfies Record<string, ProblemDefinition>

const CONNECTION_FAILURES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED'
])

interface ProblemBody {
  code?: unknown
  title?: unknown
  detail?: unknown
  errors?: unknown
}

/**
 * JSON over kept-alive HTTP/1.1 connections (an undici Pool) to one service. Every call has a
 * deadline; the answer is the parsed body of a 2xx, or a ProblemError: the service's own problem
 * (code, status, detail and field errors kept, so a 404 from the catalog stays PRD_PRODUCT_NOT_FOUND),
 * 503 when it cannot be reached, 504 past the deadline, 502 for anything else it says.
 */
export class RestClient {
  readonly #pool: Pool
  readonly #o: RestClientOptions

  constructor(options: RestClientOptions) {
    this.#o = options
    const url = new URL(options.baseUrl)
    this.#pool = new Pool(url.origin, {
      connections: options.connections ?? 32,
      connectTimeout: Math.min(options.timeoutMs, 2000),
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      keepAliveTimeout: 30_000
    })
  }

  async request<T>(request: RestRequest): Promise<T> {
    const method = request.method ?? 'GET'
    const query = Object.entries(request.query ?? {}).filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    const search = query.length === 0 ? '' : `?${new URLSearchParams(query.map(([k, v]): [string, string] => [k, String(v)])).toString()}`
    const headers: Record<string, string> = { accept: 'application/json' }
    for (const [name, value] of Object.entries(request.headers ?? {})) if (value !== undefined) headers[name] = value
    if (request.body !== undefined) headers['content-type'] = 'application/json'
    const signal = AbortSignal.timeout(this.#o.timeoutMs)
    let response: Awaited<ReturnType<Pool['request']>>
    let text: string
    try {
      response = await this.#pool.request({
        method,
        path: `${request.path}${search}`,
        headers,
        ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
        signal
      })
      text = await response.body.text()
    } catch (error) {
      throw this.#failure(error, signal)
    }
    if (response.statusCode >= 200 && response.statusCode < 300) {
      return (text === '' ? undefined : JSON.parse(text)) as T
    }
    throw this.#answeredProblem(response.statusCode, String(response.headers['content-type'] ?? ''), text)
  }

  close(): Promise<void> {
    return this.#pool.close()
  }

  #failure(error: unknown, signal: AbortSignal): ProblemError {
    const code = (error as { code?: string }).code ?? ''
    const timedOut =
      signal.aborted ||
      error instanceof undiciErrors.HeadersTimeoutError ||
      error instanceof undiciErrors.BodyTimeoutError ||
      error instanceof undiciErrors.ConnectTimeoutError
    if (timedOut) {
      return new ProblemError(
        `${this.#o.prefix}_UPSTREAM_TIMEOUT`,
        upstreamProblems.UPSTREAM_TIMEOUT,
        `The ${this.#o.service} service did not answer in time; retry shortly.`,
        {},
        { cause: error }
      )
    }
    if (CONNECTION_FAILURES.has(code) || error instanceof undiciErrors.SocketError) {
      return new ProblemError(
        `${this.#o.prefix}_UPSTREAM_UNAVAILABLE`,
        upstreamProblems.UPSTREAM_UNAVAILABLE,
        `The ${this.#o.service} service is unavailable; retry shortly.`,
        {},
        { cause: error }
      )
    }
    return new ProblemError(
      `${this.#o.prefix}_UPSTREAM_FAILED`,
      upstreamProblems.UPSTREAM_FAILED,
      `The ${this.#o.service} service failed to answer.`,
      {},
      { cause: error }
    )
  }

  #answeredProblem(status: number, contentType: string, text: string): ProblemError {
    let body: ProblemBody | undefined
    if (contentType.includes('json')) {
      try {
        body = JSON.parse(text) as ProblemBody
      } catch {
        body = undefined
      }
    }
    // A problem from a polyshop service below 500 is about the request: pass it on as it was said.
    if (status < 500 && typeof body?.code === 'string' && typeof body.title === 'string') {
      return new ProblemError(
        body.code,
        { status, title: body.title },
        typeof body.detail === 'string' ? body.detail : undefined,
        Array.isArray(body.errors) ? { errors: body.errors } : {}
      )
    }
    if (status === 503 || status === 429) {
      return new ProblemError(
        `${this.#o.prefix}_UPSTREAM_UNAVAILABLE`,
        upstreamProblems.UPSTREAM_UNAVAILABLE,
        `The ${this.#o.service} service is unavailable; retry shortly.`
      )
    }
    return new ProblemError(
      `${this.#o.prefix}_UPSTREAM_FAILED`,
      upstreamProblems.UPSTREAM_FAILED,
      `The ${this.#o.service} service failed to answer (status ${status}).`
    )
  }
}
