import { alternate, median, ratio } from '../compare.js'
import type { BenchContext, ScenarioReport } from '../context.js'
import { fixedRate, saturation } from '../context.js'
import { startHelper } from '../helpers.js'
import { type Measured, measure, rssMiB } from '../measure.js'
import { round } from './framework-cost.js'

const PRODUCT = '/api/v1/products/beanie'
const SERVICES = ['gateway', 'user', 'product', 'order', 'recommendation', 'notification']

const throughputs = (runs: Measured[] | undefined) => (runs ?? []).map((run) => run.throughput)

/**
 * 2. GET /api/v1/products/:id through the gateway, directly on the product service, and through a
 * bare @fastify/http-proxy; saturation throughput and added latency at a fixed rate.
 * 8. Memory: every service idle, and its peak under this load.
 */
export async function gatewayHop(context: BenchContext): Promise<{ hop: ScenarioReport; memory: ScenarioReport }> {
  const { stack, settings, pids } = context
  const idle = Object.fromEntries(SERVICES.map((name) => [name, rssMiB(pids[name] ?? 0)]))
  const bare = await startHelper('bare-proxy', [stack.urls.product ?? ''])
  try {
    const expectBody = await (await fetch(`${stack.urls.product}${PRODUCT}`)).text()
    // Every service is watched (peak RSS of all six); CPU per request matters for the hop's processes.
    const watched = { ...Object.fromEntries(SERVICES.map((name) => [name, pids[name] ?? 0])), bareProxy: bare.pid }
    const targets = {
      gateway: `${stack.gateway}${PRODUCT}`,
      direct: `${stack.urls.product}${PRODUCT}`,
      bareProxy: `http://127.0.0.1:${bare.port}${PRODUCT}`
    }
    const saturated = await alternate(settings.rounds, {
      direct: () => measure(saturation(settings, { url: targets.direct, expectBody }), watched),
      gateway: () => measure(saturation(settings, { url: targets.gateway, expectBody }), watched),
      bareProxy: () => measure(saturation(settings, { url: targets.bareProxy, expectBody }), watched)
    })
    const atRate = await alternate(settings.rounds, {
      direct: () => measure(fixedRate(settings, { url: targets.direct, expectBody }), watched),
      gateway: () => measure(fixedRate(settings, { url: targets.gateway, expectBody }), watched)
    })
    const gw = throughputs(saturated.gateway)
    const added = (key: 'p50' | 'p99') => ratio((atRate.gateway ?? []).map((run, i) => run[key] - (atRate.direct?.[i]?.[key] ?? 0)))
    const peak = Object.fromEntries(SERVICES.map((name) => [name, rssMiB(pids[name] ?? 0)]))
    for (const run of Object.values(saturated).flat()) {
      for (const [name, value] of Object.entries(run.peakRssMiB)) if (name in peak) peak[name] = Math.max(peak[name] ?? 0, value)
    }
    const hop: ScenarioReport = {
      title: '2. GET /api/v1/products/:id: gateway hop vs direct vs a bare proxy',
      ratios: [
        { name: 'gateway / direct throughput', ...ratio(gw.map((x, i) => x / (throughputs(saturated.direct)[i] ?? 1))), goal: 0.7 },
        {
          name: 'gateway / bare @fastify/http-proxy throughput',
          ...ratio(gw.map((x, i) => x / (throughputs(saturated.bareProxy)[i] ?? 1))),
          goal: 0.85
        },
        { name: `added p50 at ${settings.latency.rate} req/s`, ...added('p50'), goal: 1, atMost: true, unit: 'ms' },
        { name: `added p99 at ${settings.latency.rate} req/s`, ...added('p99'), goal: 5, atMost: true, unit: 'ms' }
      ],
      numbers: {
        'direct req/s': Math.round(median(throughputs(saturated.direct))),
        'gateway req/s': Math.round(median(gw)),
        'bare proxy req/s': Math.round(median(throughputs(saturated.bareProxy))),
        'gateway CPU ms/req': round(median((saturated.gateway ?? []).map((r) => r.cpuPerRequest.gateway ?? 0))),
        'bare proxy CPU ms/req': round(median((saturated.bareProxy ?? []).map((r) => r.cpuPerRequest.bareProxy ?? 0))),
        'product CPU ms/req': round(median((saturated.direct ?? []).map((r) => r.cpuPerRequest.product ?? 0))),
        'direct p50/p99 ms at rate': `${median((atRate.direct ?? []).map((r) => r.p50))} / ${median((atRate.direct ?? []).map((r) => r.p99))}`,
        'gateway p50/p99 ms at rate': `${median((atRate.gateway ?? []).map((r) => r.p50))} / ${median((atRate.gateway ?? []).map((r) => r.p99))}`
      }
    }
    const memory: ScenarioReport = {
      title: '8. Memory (RSS, MiB): idle, and peak under scenario 2',
      ratios: SERVICES.map((name) => ({
        name: `${name} peak RSS`,
        median: round(peak[name] ?? 0, 1),
        min: round(idle[name] ?? 0, 1),
        max: round(peak[name] ?? 0, 1),
        goal: 120,
        atMost: true,
        unit: 'MiB'
      })),
      numbers: {
        'idle total of the six': round(
          Object.values(idle).reduce((a, b) => a + b, 0),
          1
        ),
        'peak total of the six': round(
          Object.values(peak).reduce((a, b) => a + b, 0),
          1
        )
      },
      notes: ['min is the idle RSS, median and max the peak sampled every 200 ms under load']
    }
    return { hop, memory }
  } finally {
    await bare.stop()
  }
}

/** 3. The same route with a valid access token (verified by the gateway, remembered) vs without. */
export async function authCost(context: BenchContext): Promise<ScenarioReport> {
  const { stack, settings, pids } = context
  const expectBody = await (await fetch(`${stack.urls.product}${PRODUCT}`)).text()
  const token = await context.customerToken()
  const url = `${stack.gateway}${PRODUCT}`
  const watched = { gateway: pids.gateway ?? 0 }
  const results = await alternate(settings.rounds, {
    anonymous: () => measure(saturation(settings, { url, expectBody }), watched),
    withToken: () => measure(saturation(settings, { url, expectBody, headers: { authorization: `Bearer ${token}` } }), watched)
  })
  return {
    title: '3. Access-token verification: the same route with a valid JWT vs without',
    ratios: [
      {
        name: 'with JWT / without throughput',
        ...ratio(throughputs(results.withToken).map((x, i) => x / (throughputs(results.anonymous)[i] ?? 1))),
        goal: 0.95
      }
    ],
    numbers: {
      'without req/s': Math.round(median(throughputs(results.anonymous))),
      'with JWT req/s': Math.round(median(throughputs(results.withToken))),
      'gateway CPU ms/req without': round(median((results.anonymous ?? []).map((r) => r.cpuPerRequest.gateway ?? 0))),
      'gateway CPU ms/req with JWT': round(median((results.withToken ?? []).map((r) => r.cpuPerRequest.gateway ?? 0)))
    }
  }
}
