import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { Agent, get } from 'node:http'
import { fileURLToPath } from 'node:url'
import t from 'tap'

const fixture = fileURLToPath(new URL('./fixtures/server-with-slow-route.ts', import.meta.url))

async function startFixture(env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@polyshop/source', fixture], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const exited = once(child, 'exit').then(([code]) => code as number | null)
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (chunk) => {
    stdout += chunk
  })
  child.stderr?.on('data', (chunk) => {
    stderr += chunk
  })
  const address = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', () => {
      const match = /listening (\S+)/.exec(stdout)
      if (match?.[1] !== undefined) resolve(match[1])
    })
    child.once('exit', () => reject(new Error(`fixture exited early: ${stderr}`)))
  })
  return { child, address, exited, output: () => ({ stdout, stderr }) }
}

t.test('SIGTERM lets the request in flight finish, closes resources in order, exits 0', async (t) => {
  const { child, address, exited, output } = await startFixture()
  const inFlight = fetch(`${address}/slow`)
  await new Promise((resolve) => setTimeout(resolve, 150))
  child.kill('SIGTERM')
  const response = await inFlight
  t.equal(response.status, 200)
  t.same(await response.json(), { done: true })
  t.equal(await exited, 0)
  t.equal(
    output()
      .stdout.split('\n')
      .filter((line) => line.startsWith('closed'))
      .join(','),
    'closed consumer,closed database'
  )
  t.match(output().stderr, /"msg":"shutting down"/)
  t.match(output().stderr, /"msg":"shutdown complete"/)
})

t.test('with no connection to drain, the listener closes at once', async (t) => {
  const { child, address, exited } = await startFixture({ HANG_ON_CLOSE: '1', SHUTDOWN_TIMEOUT_MS: '1500' })
  child.kill('SIGTERM')
  await new Promise((resolve) => setTimeout(resolve, 300))
  await t.rejects(fetch(`${address}/readyz`), 'the listener is closed')
  t.equal(await exited, 1, 'a resource that never closes ends in exit 1 at the timeout')
})

/** GET over one kept-alive connection of `agent`: status, the connection header, and the socket's local port. */
function getOn(agent: Agent, url: string): Promise<{ status: number; connection: string | undefined; port: number }> {
  return new Promise((resolve, reject) => {
    get(url, { agent }, (response) => {
      const port = response.socket.localPort ?? 0
      response.resume()
      response.once('end', () => resolve({ status: response.statusCode ?? 0, connection: response.headers.connection, port }))
    }).once('error', reject)
  })
}

t.test('a kept-alive connection is drained, not cut: its next request is answered with Connection: close', async (t) => {
  const { child, address, exited } = await startFixture({ SHUTDOWN_TIMEOUT_MS: '8000' })
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  t.teardown(() => agent.destroy())
  const before = await getOn(agent, `${address}/readyz`)
  t.equal(before.status, 200)
  t.not(before.connection, 'close', 'kept alive while serving')
  child.kill('SIGTERM')
  await new Promise((resolve) => setTimeout(resolve, 300))
  // A proxy sending on its pooled connection just as the pod stops: answered, then let go.
  const during = await getOn(agent, `${address}/slow`)
  t.equal(during.status, 200, 'the request on the idle connection is served, not reset')
  t.equal(during.port, before.port, 'on the same connection')
  t.equal(during.connection, 'close', 'with Connection: close, so the client opens its next one elsewhere')
  t.equal(await exited, 0, 'the drain ends once no connection is left, and shutdown completes')
})

t.test('a connection left idle during the drain is closed, and shutdown does not wait for it', async (t) => {
  const { child, address, exited } = await startFixture({ SHUTDOWN_TIMEOUT_MS: '8000' })
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  t.teardown(() => agent.destroy())
  await getOn(agent, `${address}/readyz`)
  const started = Date.now()
  child.kill('SIGTERM')
  t.equal(await exited, 0)
  const ms = Date.now() - started
  t.ok(ms >= 900 && ms < 4000, `closed after about the 1 s idle allowance (${ms} ms), well before the 5 s drain limit`)
})

t.test('a second signal exits at once', async (t) => {
  const { child, exited, output } = await startFixture({ HANG_ON_CLOSE: '1', SHUTDOWN_TIMEOUT_MS: '60000' })
  child.kill('SIGTERM')
  child.kill('SIGINT') // the same stop delivered twice at once is not a second request
  await new Promise((resolve) => setTimeout(resolve, 1300))
  t.equal(child.exitCode, null, 'still draining')
  child.kill('SIGINT')
  t.equal(await exited, 1)
  t.match(output().stderr, /second signal during shutdown/)
})
