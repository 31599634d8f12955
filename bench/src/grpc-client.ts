// Scenario 7's clients, each in its own process: unary Health.Check calls with a fixed number in
// flight over one HTTP/2 connection, for a fixed time. Prints {calls, throughput} as JSON.
import { fileURLToPath } from 'node:url'
import { createClient } from '@connectrpc/connect'
import { createGrpcTransport } from '@connectrpc/connect-node'
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'
import { Health, HealthCheckResponse_ServingStatus } from '@polyshop/proto'

const [kind, address, secondsArg, inFlightArg] = process.argv.slice(2)
const seconds = Number(secondsArg ?? 5)
const inFlight = Number(inFlightArg ?? 32)

let check: () => Promise<void>
if (kind === 'connect') {
  const client = createClient(Health, createGrpcTransport({ baseUrl: `http://${address}` }))
  check = async () => {
    const answer = await client.check({ service: '' }, { timeoutMs: 5000 })
    if (answer.status !== HealthCheckResponse_ServingStatus.SERVING) throw new Error('not serving')
  }
} else {
  const definition = protoLoader.loadSync('grpc/health/v1/health.proto', {
    includeDirs: [fileURLToPath(new URL('../../proto', import.meta.url))],
    enums: String
  })
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } }
  }
  const client = new loaded.grpc.health.v1.Health(address ?? '', grpc.credentials.createInsecure())
  check = () =>
    new Promise((resolve, reject) => {
      ;(client as unknown as { Check: (r: object, o: object, cb: (e: Error | null, v: { status: string }) => void) => void }).Check(
        { service: '' },
        { deadline: new Date(Date.now() + 5000) },
        (error, value) => (error !== null ? reject(error) : value.status === 'SERVING' ? resolve() : reject(new Error('not serving')))
      )
    })
}

// Warm-up: connection, JIT.
for (let i = 0; i < 500; i++) await check()
let calls = 0
let failures = 0
const deadline = Date.now() + seconds * 1000
const started = Date.now()
await Promise.all(
  Array.from({ length: inFlight }, async () => {
    while (Date.now() < deadline) {
      try {
        await check()
        calls += 1
      } catch {
        failures += 1
      }
    }
  })
)
const elapsed = (Date.now() - started) / 1000
process.stdout.write(`${JSON.stringify({ calls, failures, throughput: calls / elapsed })}\n`)
process.exit(0)
