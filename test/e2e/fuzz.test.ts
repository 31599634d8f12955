// The public API fuzzed from outside, as an attacker or a careless client would: schemathesis
// (PyPI) generates requests from the gateway's own OpenAPI document and GraphQL schema — valid
// ones, invalid ones, wrong methods, edge values — and checks every answer against the
// documents: no 5xx, documented status codes, content types, headers and bodies; invalid input
// refused, valid input accepted. Against the whole stack of real processes, as a customer and as
// an admin. Zero failures is the bar.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ensureSchemathesis } from '@polyshop/devstack'
import { ADMIN, startWholeStack } from '@polyshop/testkit'
import t from 'tap'
import { typeDefs } from '../../services/gateway/src/graphql/schema.js'

const CONFIG = fileURLToPath(new URL('./fuzz.schemathesis.toml', import.meta.url))

/** Examples per operation and phase: bounded, so the run takes minutes, not hours. */
t.setTimeout(20 * 60_000)

const MAX_EXAMPLES = Number(process.env.POLYSHOP_FUZZ_EXAMPLES ?? 25)

// Fuzzing is many requests from one address: the per-client limits (tested on their own) would
// answer most of them with 429 and hide the rest of the API from the fuzzer.
const stack = await startWholeStack(t, {
  env: {
    gateway: { RATE_LIMIT_PER_MINUTE: '1000000', AUTH_RATE_LIMIT_PER_MINUTE: '1000000', ORDER_RATE_LIMIT_PER_MINUTE: '1000000' },
    user: { RATE_LIMIT_PER_MINUTE: '100000', LOGIN_MAX_FAILURES: '100', LOGIN_MAX_ACCOUNT_FAILURES: '10000', PASSWORD_HASH_QUEUE: '1000' },
    order: { MAX_UNPAID_ORDERS: '1000', MAX_HELD_UNITS: '100000' }
  }
})
const schemathesis = ensureSchemathesis()
const dir = mkdtempSync(join(tmpdir(), 'polyshop-fuzz-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

async function post<T>(path: string, body: unknown): Promise<T> {
  const response = await fetch(`${stack.gateway}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body)
  })
  if (!response.ok) throw new Error(`${path} answered ${response.status}: ${await response.text()}`)
  return (await response.json()) as T
}

/** A fresh customer's access token (each run gets its own: the fuzzer may log it out). */
async function customerToken(): Promise<string> {
  const email = `fuzz-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`
  return (await post<{ accessToken: string }>('/api/v1/auth/register', { email, password: 'a long enough password', name: 'Fuzz' }))
    .accessToken
}

async function adminToken(): Promise<string> {
  return (await post<{ accessToken: string }>('/api/v1/auth/login', ADMIN)).accessToken
}

interface FuzzRun {
  code: number | null
  output: string
  /** Operations tested, test cases generated, failures found (from schemathesis' summary). */
  operations: number
  cases: number
  failures: number
}

function fuzz(location: string, args: string[]): Promise<FuzzRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      schemathesis,
      [
        '--no-color',
        '--config-file',
        CONFIG,
        'run',
        location,
        '--checks',
        'all',
        '--max-examples',
        String(MAX_EXAMPLES),
        '--phases',
        'examples,coverage,fuzzing',
        // One worker: CPython 3.11's parser is not safe in threads (hypothesis' lambda
        // descriptions fail with "AST constructor recursion depth mismatch" under two).
        '--workers',
        '1',
        '--request-timeout',
        '10',
        '--seed',
        '1',
        ...args
      ],
      // In the run's own directory: schemathesis keeps a cache where it runs.
      { cwd: dir, env: { ...process.env, SCHEMATHESIS_HOOKS: '' }, stdio: ['ignore', 'pipe', 'pipe'] }
    )
    let output = ''
    child.stdout.on('data', (chunk) => {
      output += chunk
    })
    child.stderr.on('data', (chunk) => {
      output += chunk
    })
    child.once('error', reject)
    child.once('exit', (code) => {
      const number = (pattern: RegExp) => Number(pattern.exec(output)?.[1] ?? 0)
      resolve({
        code,
        output,
        operations: number(/Tested:\s+(\d+)/),
        cases: number(/Test cases:\s+(\d+)\s+generated/i),
        failures: number(/(\d+)\s+unique failures?/i)
      })
    })
  })
}

const report = (run: FuzzRun) => `${run.operations} operations, ${run.cases} test cases, ${run.failures} unique failures (exit ${run.code})`

t.test('REST: every operation, all checks, as a customer and as an admin: 0 failures', async (t) => {
  const document = await (await fetch(`${stack.gateway}/docs/json`)).text()
  const file = join(dir, 'openapi.json')
  writeFileSync(file, document)
  // Logging out ends the session the token belongs to: it gets a run (and a token) of its own,
  // after which nothing else is fuzzed with that token.
  const logout = ['--include-path', '/api/v1/auth/logout']
  const notLogout = ['--exclude-path', '/api/v1/auth/logout']
  for (const [who, token, only] of [
    ['customer', await customerToken(), notLogout],
    ['admin', await adminToken(), notLogout],
    ['customer (logout)', await customerToken(), logout]
  ] as const) {
    const run = await fuzz(file, ['--url', stack.gateway, '--header', `Authorization: Bearer ${token}`, ...only])
    t.comment(`REST as ${who}: ${report(run)}`)
    t.equal(run.code, 0, `REST as ${who}: ${report(run)}${run.code === 0 ? '' : `\n${run.output.slice(-20_000)}`}`)
    t.ok(run.cases > 0, 'requests were generated')
  }
})

/**
 * The failures of a GraphQL run that are coded refusals of the request — every error carrying a
 * 4xx `status` (a bad argument, an unknown id, a forbidden mutation) — and those that are not.
 * GraphQL's SDL cannot state that an id has a format, a string a length or a mutation a role, so
 * schemathesis, which reads only the SDL, reports such refusals as failures (ST113/ST206).
 * Everything else — a 5xx, an INTERNAL error, a response that breaks the schema, invalid input
 * accepted — is a real failure.
 */
function graphqlFindings(output: string): { refusals: number; real: string[] } {
  const real: string[] = []
  let refusals = 0
  const sections = output.split(/\n(?=_{5,} [A-Za-z]+\.[A-Za-z]+ _{5,})/)
  for (const section of sections) {
    for (const failure of section.split(/\n\s*\d+\. Test Case ID: /).slice(1)) {
      const kind = /- (ST\d+) ([^\n]+)/.exec(failure)
      const body = /\[(\d{3})\][^`]*`(\{[\s\S]*?\})`\s*\n/.exec(failure)
      let refused = false
      if (kind !== null && (kind[1] === 'ST113' || kind[1] === 'ST206') && body !== null && Number(body[1]) < 500) {
        try {
          const errors = (JSON.parse(body[2] as string) as { errors?: Array<{ extensions?: { status?: number } }> }).errors ?? []
          refused = errors.length > 0 && errors.every((error) => (error.extensions?.status ?? 500) < 500)
        } catch {
          refused = false
        }
      }
      if (refused) refusals++
      else real.push(failure.slice(0, 2000))
    }
  }
  return { refusals, real }
}

t.test('GraphQL: every query and mutation, all checks, as a customer and as an admin: no failure of ours', async (t) => {
  const file = join(dir, 'schema.graphql')
  writeFileSync(file, typeDefs)
  for (const [who, token, only] of [
    ['customer', await customerToken(), ['--exclude-name', 'Mutation.logout']],
    ['admin', await adminToken(), ['--exclude-name', 'Mutation.logout']],
    ['customer (logout)', await customerToken(), ['--include-name', 'Mutation.logout']]
  ] as const) {
    const run = await fuzz(file, ['--url', `${stack.gateway}/graphql`, '--header', `Authorization: Bearer ${token}`, ...only])
    const findings = graphqlFindings(run.output)
    t.comment(`GraphQL as ${who}: ${report(run)}; coded refusals ${findings.refusals}, other failures ${findings.real.length}`)
    t.same(findings.real, [], `GraphQL as ${who}: no 5xx, no INTERNAL error, no schema violation, no invalid input accepted`)
    t.ok(
      run.code === 0 || findings.refusals > 0,
      `schemathesis ran (exit ${run.code})${run.code === 0 || findings.refusals > 0 ? '' : `\n${run.output.slice(-5000)}`}`
    )
    t.ok(run.cases > 0, 'requests were generated')
  }
})
