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
 * The "server errors" (ST113) of a GraphQL run that are NOT_FOUND answers to a made-up id —
 * every error coded, with `status` 404 and `classification: "NOT_FOUND"` (Spring GraphQL's word,
 * which schemathesis does not count among client errors) — or, in the logout run, its own token
 * refused after the run ended its session; and every other failure.
 */
function graphqlFindings(output: string, ownTokenRevoked = false): { expected: number; real: string[] } {
  const real: string[] = []
  let expected = 0
  for (const failure of output.split(/\n\s*\d+\. Test Case ID: /).slice(1)) {
    // Every check the case failed: a NOT_FOUND that also broke another check is a real failure.
    const kinds = [...failure.matchAll(/(?:^|\n)\s*- (ST\d+) /g)].map((match) => match[1])
    const body = /\[200\][^`]*`(\{[\s\S]*?\})`\s*\n/.exec(failure)?.[1]
    let explained = false
    if (kinds.length > 0 && kinds.every((kind) => kind === 'ST113') && body !== undefined) {
      try {
        const errors =
          (JSON.parse(body) as { errors?: Array<{ extensions?: { status?: number; classification?: string; code?: string } }> }).errors ??
          []
        // The logout run ends its own session: the rest of its requests are refused as revoked, as
        // they must be — by the user service at once, by the gateway once the revocation reaches
        // it (within a second).
        const revoked = (e: { extensions?: { status?: number; code?: string } }) =>
          ownTokenRevoked &&
          e.extensions?.status === 401 &&
          (e.extensions.code === 'GW_UNAUTHENTICATED' || e.extensions.code === 'USR_UNAUTHENTICATED')
        explained =
          errors.length > 0 &&
          errors.every(
            (e) =>
              revoked(e) ||
              (e.extensions?.status === 404 && e.extensions.classification === 'NOT_FOUND' && /_NOT_FOUND$/.test(e.extensions.code ?? ''))
          )
      } catch {
        explained = false
      }
    }
    if (explained) expected++
    else real.push(failure.slice(0, 2000))
  }
  return { expected, real }
}

t.test('GraphQL: every query and mutation, all checks, as a customer and as an admin: 0 failures', async (t) => {
  const file = join(dir, 'schema.graphql')
  writeFileSync(file, typeDefs)
  // The admin mutations are an admin's: a customer's run would only hear "forbidden".
  const adminOnly = ['--exclude-name', 'Mutation.updateProduct', '--exclude-name', 'Mutation.updateOrderStatus']
  // The SDL has types and nullability but no lengths, patterns, ranges or formats, so schemathesis
  // generates arguments the services rightly refuse — an id that is not one, an email of one
  // character, a limit of 0, a cursor this API never issued — each refused with a GraphQL error of
  // `status` 400 and `classification: "BAD_REQUEST"`, which it would count as "positive data not
  // accepted". That one check is left out (REST states these rules in its schemas and keeps it);
  // every other check stays: an uncoded or INTERNAL error, a 5xx, a null in a non-null field, a
  // malformed response or invalid GraphQL accepted fails the run.
  const refusalsAreExpected = ['--exclude-checks', 'positive_data_acceptance']
  for (const [who, token, only] of [
    ['customer', await customerToken(), ['--exclude-name', 'Mutation.logout', ...adminOnly]],
    ['admin', await adminToken(), ['--exclude-name', 'Mutation.logout']],
    ['customer (logout)', await customerToken(), ['--include-name', 'Mutation.logout']]
  ] as const) {
    const run = await fuzz(file, [
      '--url',
      `${stack.gateway}/graphql`,
      '--header',
      `Authorization: Bearer ${token}`,
      ...refusalsAreExpected,
      ...only
    ])
    const findings = graphqlFindings(run.output, who === 'customer (logout)')
    t.comment(
      `GraphQL as ${who}: ${report(run)}; of them expected (NOT_FOUND for a made-up id, or the logged-out token refused) ${findings.expected}, other ${findings.real.length}`
    )
    t.same(findings.real, [], `GraphQL as ${who}: no 5xx, no uncoded or INTERNAL error, no schema violation, no invalid query accepted`)
    // Exit 1 only for the failures counted above: not for a crash, a network error or anything it did not list.
    const explained = run.code === 0 ? run.failures === 0 : run.code === 1 && run.failures === findings.expected
    t.ok(
      explained,
      `schemathesis exit ${run.code}, ${run.failures} failures, all of them accounted for${explained ? '' : `\n${run.output.slice(-5000)}`}`
    )
    t.ok(run.cases > 0, 'requests were generated')
  }
})
