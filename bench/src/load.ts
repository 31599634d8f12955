// The load generator, run as its own process (never the process under test): one autocannon run
// with the options given as JSON in argv[2]; prints the summary as one JSON line.
import autocannon from 'autocannon'

export interface LoadOptions {
  url: string
  method?: 'GET' | 'POST'
  headers?: Record<string, string>
  body?: string
  /** Bodies each connection sends in turn, instead of one `body` (orders spread over products). */
  bodies?: string[]
  connections: number
  /** Seconds; or `amount` requests. */
  duration?: number
  amount?: number
  /** A fixed offered rate (requests per second over all connections), for latency below saturation. */
  overallRate?: number
  /** Replace [<id>] in headers and body with a unique id per request (idempotency keys). */
  idReplacement?: boolean
  /** Every answer must be exactly this body (otherwise it counts as a mismatch and fails the arm). */
  expectBody?: string
}

export interface LoadResult {
  requests: number
  throughput: number
  p50: number
  p90: number
  p99: number
  errors: number
  timeouts: number
  non2xx: number
  mismatches: number
  seconds: number
}

const options = JSON.parse(process.argv[2] ?? '{}') as LoadOptions
const result = await autocannon({
  url: options.url,
  method: options.method ?? 'GET',
  headers: options.headers,
  body: options.body,
  ...(options.bodies === undefined ? {} : { requests: options.bodies.map((body) => ({ body })) }),
  connections: options.connections,
  pipelining: 1,
  ...(options.amount === undefined ? { duration: options.duration ?? 5 } : { amount: options.amount }),
  ...(options.overallRate === undefined ? {} : { overallRate: options.overallRate }),
  idReplacement: options.idReplacement ?? false,
  ...(options.expectBody === undefined ? {} : { expectBody: options.expectBody }),
  timeout: 10
})
const summary: LoadResult = {
  requests: result.requests.total,
  throughput: result.requests.total / (result.duration || 1),
  p50: result.latency.p50,
  p90: result.latency.p90,
  p99: result.latency.p99,
  errors: result.errors,
  timeouts: result.timeouts,
  non2xx: result.non2xx,
  mismatches: (result as unknown as { mismatches?: number }).mismatches ?? 0,
  seconds: result.duration
}
process.stdout.write(`${JSON.stringify(summary)}\n`)
