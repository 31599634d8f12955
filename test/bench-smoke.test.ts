// The benchmarks' smoke mode: every scenario once, with a few hundred requests, so the scripts
// keep working. Numbers from here mean nothing; `npm run bench` measures.
import t from 'tap'
import { runBench } from '../bench/src/run.js'

t.setTimeout(600_000)

t.test('every benchmark scenario runs, checks its answers and reports its ratios', async (t) => {
  const report = await runBench(t, { smoke: true, log: () => {} })
  t.same(report.failures, {}, 'no scenario failed')
  for (const name of ['framework', 'gateway', 'memory', 'auth', 'graphql', 'orders', 'events', 'grpc', 'login-storm', 'database', 'live']) {
    const scenario = report.scenarios[name]
    t.ok(scenario, `${name} reported`)
    for (const entry of scenario?.ratios ?? []) t.ok(Number.isFinite(entry.median), `${name}: ${entry.name} is a number (${entry.median})`)
  }
  const calls = report.scenarios.graphql?.ratios.find((r) => r.name.startsWith('catalog calls'))
  t.equal(calls?.median, 1, 'one catalog call per GraphQL request, however many order items')
})
