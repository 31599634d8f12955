import { once } from 'node:events'
import { Code, ConnectError, createClient } from '@connectrpc/connect'
import { createGrpcTransport } from '@connectrpc/connect-node'
import { Health } from '@polyshop/proto'
import { freePort } from '@polyshop/testkit'
import pino from 'pino'
import t from 'tap'
import { closeGrpcServer, createGrpcServer, retryUnavailable } from '../src/index.js'

/** A real h2c gRPC server whose Check answers from `answer` and counts its calls. */
async function healthServer(port: number, answer: () => Promise<void>) {
  const calls = { count: 0 }
  const server = createGrpcServer({
    logger: pino({ level: 'silent' }),
    routes: (router) =>
      router.service(Health, {
        async check() {
          calls.count++
          await answer()
          return { status: 1 }
        },
        async list() {
          return { statuses: {} }
        },
        // biome-ignore lint/correctness/useYield: never streams here
        async *watch() {
          throw new ConnectError('not here', Code.Unimplemented)
        }
      })
  })
  server.listen(port, '127.0.0.1')
  await once(server, 'listening')
  return { server, calls }
}

const client = (port: number, interceptors = [retryUnavailable({ attempts: 6, backoffMs: 50 })]) =>
  createClient(Health, createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}`, interceptors }))

t.test('a call to a server that is not listening yet succeeds once it is, within the deadline', async (t) => {
  const port = await freePort()
  const started = new Promise<Awaited<ReturnType<typeof healthServer>>>((resolve) => {
    setTimeout(() => resolve(healthServer(port, async () => undefined)), 250)
  })
  const answer = await client(port).check({ service: '' }, { timeoutMs: 5000 })
  t.equal(answer.status, 1)
  const { server, calls } = await started
  t.equal(calls.count, 1, 'the server saw the call once')
  await closeGrpcServer(server)
})

t.test('without the interceptor the same call fails UNAVAILABLE at once', async (t) => {
  const port = await freePort()
  const failed = await client(port, [])
    .check({ service: '' }, { timeoutMs: 5000 })
    .catch((error: unknown) => ConnectError.from(error))
  t.equal((failed as ConnectError).code, Code.Unavailable)
})

t.test('the call deadline ends the retries', async (t) => {
  const port = await freePort()
  const began = Date.now()
  const failed = await client(port, [retryUnavailable({ attempts: 1000, backoffMs: 20 })])
    .check({ service: '' }, { timeoutMs: 400 })
    .catch((error: unknown) => ConnectError.from(error))
  t.ok(failed instanceof ConnectError, 'it fails')
  t.ok([Code.Unavailable, Code.DeadlineExceeded].includes((failed as ConnectError).code), `as ${Code[(failed as ConnectError).code]}`)
  t.ok(Date.now() - began < 3000, 'soon after the deadline, not after a thousand attempts')
})

t.test('an answer from the server is never repeated, an UNAVAILABLE one is, up to the attempts', async (t) => {
  const port = await freePort()
  let refuse: Code = Code.FailedPrecondition
  const { server, calls } = await healthServer(port, async () => {
    throw new ConnectError('no', refuse)
  })
  t.teardown(() => closeGrpcServer(server))
  const first = await client(port)
    .check({ service: '' })
    .catch((error: unknown) => ConnectError.from(error))
  t.equal((first as ConnectError).code, Code.FailedPrecondition)
  t.equal(calls.count, 1, 'FAILED_PRECONDITION: sent once')
  refuse = Code.Unavailable
  const second = await client(port)
    .check({ service: '' })
    .catch((error: unknown) => ConnectError.from(error))
  t.equal((second as ConnectError).code, Code.Unavailable)
  t.equal(calls.count, 1 + 6, 'UNAVAILABLE: sent six times in all, then the failure is the caller’s')
})
