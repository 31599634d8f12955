import { readFileSync } from 'node:fs'
import { eventually, freePort, spawnService, uniqueDatabaseUrl } from '@polyshop/testkit'
import { median } from '../compare.js'
import type { BenchContext, ScenarioReport } from '../context.js'
import { round } from './framework-cost.js'

interface Teardown {
  teardown(fn: () => unknown): void
}

/** The peak resident memory a process ever had (VmHWM), in MiB. */
function peakMiB(pid: number): number {
  return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? Number.NaN) / 1024
}

interface Storm {
  peakMiB: number
  answered: Record<string, number>
  seconds: number
}

/**
 * Parallel sign-ins for accounts that do not exist, each from its own client address, straight at
 * a fresh user service with the production password cost (scrypt N=2^17: 128 MiB per hash).
 */
async function storm(t: Teardown, logins: number, env: Record<string, string>): Promise<Storm> {
  const port = await freePort()
  const service = spawnService(t, 'user', {
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'error',
    MONGODB_URL: uniqueDatabaseUrl('bench_storm'),
    KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '',
    PASSWORD_HASH_COST: '17',
    RATE_LIMIT_PER_MINUTE: '100000',
    TRUST_PROXY: '127.0.0.1',
    ...env
  })
  try {
    await eventually(
      async () => ((await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.ok === true ? true : undefined),
      30_000,
      'the user service to be ready'
    )
    const started = Date.now()
    const answers = await Promise.all(
      Array.from({ length: logins }, (_, i) =>
        fetch(`http://127.0.0.1:${port}/api/v1/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-forwarded-for': `10.9.${Math.floor(i / 250)}.${(i % 250) + 1}` },
          body: JSON.stringify({ email: `storm-${i}@example.com`, password: 'a guess that is long enough' })
        }).then(
          (response) => String(response.status),
          (error: Error & { cause?: { code?: string } }) => `no answer (${error.cause?.code ?? error.message})`
        )
      )
    )
    const answered: Record<string, number> = {}
    for (const answer of answers) answered[answer] = (answered[answer] ?? 0) + 1
    return { peakMiB: peakMiB(service.child.pid ?? 0), answered, seconds: (Date.now() - started) / 1000 }
  } finally {
    service.child.kill('SIGTERM')
    await service.exited
  }
}

/**
 * 9. A sign-in storm: the user service's peak memory with its password hashing bounded (the
 * default: one scrypt at a time, eight waiting, the rest told to retry) against the same service
 * allowed four at once with an unbounded queue — how it behaved before the bound (libuv's four
 * threads were the only limit). Each arm is a fresh process; the ratio is bounded ÷ unbounded.
 */
export async function loginStorm(t: Teardown, context: BenchContext): Promise<ScenarioReport> {
  const logins = context.settings.rounds === 1 ? 16 : 50
  const rounds = Math.min(context.settings.rounds, 3)
  const bounded: Storm[] = []
  const unbounded: Storm[] = []
  for (let i = 0; i < rounds; i++) {
    bounded.push(await storm(t, logins, {}))
    unbounded.push(await storm(t, logins, { PASSWORD_HASH_CONCURRENCY: '4', PASSWORD_HASH_QUEUE: '1000' }))
  }
  const perRound = bounded.map((b, i) => b.peakMiB / (unbounded[i] as Storm).peakMiB)
  const last = (runs: Storm[]) => runs.at(-1) as Storm
  return {
    title: `Sign-in storm: ${logins} parallel logins for unknown accounts, password cost 2^17`,
    ratios: [
      {
        name: 'peak RSS, bounded ÷ unbounded hashing',
        median: round(median(perRound), 2),
        min: round(Math.min(...perRound), 2),
        max: round(Math.max(...perRound), 2),
        goal: 0.5,
        atMost: true
      }
    ],
    numbers: {
      'peak RSS bounded (MiB, median)': round(median(bounded.map((b) => b.peakMiB)), 0),
      'peak RSS unbounded (MiB, median)': round(median(unbounded.map((u) => u.peakMiB)), 0),
      'answers bounded (last round)': JSON.stringify(last(bounded).answered),
      'answers unbounded (last round)': JSON.stringify(last(unbounded).answered),
      'seconds bounded / unbounded (last round)': `${round(last(bounded).seconds, 1)} / ${round(last(unbounded).seconds, 1)}`
    },
    notes: [
      "Bounded: every sign-in is answered, 401 or 503 with Retry-After, and the peak stays under the chart's 384Mi limit (goal: ≤ 256 MiB).",
      'Unbounded: four 128 MiB derivations at once, the rest queued until their connections time out.'
    ]
  }
}
