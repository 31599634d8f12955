import { alternate, median, ratio } from '../compare.js'
import type { BenchContext, ScenarioReport } from '../context.js'
import { runClient, startHelper } from '../helpers.js'

interface GrpcRun {
  calls: number
  failures: number
  throughput: number
}

/** 7. The connect-node gRPC server called by a connect-es client vs a @grpc/grpc-js client: unary, small message. */
export async function grpcClients(context: BenchContext): Promise<ScenarioReport> {
  const server = await startHelper('grpc-health')
  try {
    const address = `127.0.0.1:${server.port}`
    const seconds = String(context.settings.grpcSeconds)
    const run = async (kind: string) => {
      const result = await runClient<GrpcRun>('grpc-client', [kind, address, seconds, '32'])
      if (result.failures > 0 || result.calls === 0) throw new Error(`${kind}: ${result.failures} failed calls of ${result.calls}`)
      return result
    }
    const results = await alternate(context.settings.rounds, { connect: () => run('connect'), grpcJs: () => run('grpc-js') })
    const tp = (runs: GrpcRun[] | undefined) => (runs ?? []).map((r) => r.throughput)
    return {
      title: '7. gRPC unary (grpc.health.v1 Check) on the connect-node server: connect-es client vs @grpc/grpc-js client',
      ratios: [
        { name: 'connect-es / grpc-js calls per second', ...ratio(tp(results.connect).map((x, i) => x / (tp(results.grpcJs)[i] ?? 1))) }
      ],
      numbers: {
        'connect-es calls/s': Math.round(median(tp(results.connect))),
        'grpc-js calls/s': Math.round(median(tp(results.grpcJs)))
      },
      notes: ['32 calls in flight over one HTTP/2 connection, client and server in separate processes']
    }
  } finally {
    await server.stop()
  }
}
