import { spawn } from 'node:child_process'
import { once } from 'node:events'
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

t.test('no new connections are accepted once shutdown began', async (t) => {
  const { child, address, exited } = await startFixture({ HANG_ON_CLOSE: '1', SHUTDOWN_TIMEOUT_MS: '1500' })
  child.kill('SIGTERM')
  await new Promise((resolve) => setTimeout(resolve, 300))
  await t.rejects(fetch(`${address}/readyz`), 'the listener is closed')
  t.equal(await exited, 1, 'a resource that never closes ends in exit 1 at the timeout')
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
