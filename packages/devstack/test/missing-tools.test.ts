import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from '@polyshop/testkit'
import t from 'tap'

const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url))

t.test('without Java, start fails at once with a message that says what to install', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'polyshop-devstack-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  // A PATH with node on it and nothing else: no java, mvn or go.
  const onlyNode = join(dir, 'bin')
  mkdirSync(onlyNode)
  symlinkSync(process.execPath, join(onlyNode, 'node'))
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=@polyshop/source', cli, 'start', '--profile', 'test'], {
    encoding: 'utf8',
    timeout: 60_000,
    env: {
      PATH: onlyNode,
      HOME: process.env.HOME,
      POLYSHOP_STATE_DIR: join(dir, 'state'),
      DEVSTACK_KAFKA_PORT: String(await freePort()),
      // Skip the MongoDB-wire server: this test is about Kafka's prerequisites.
      MONGODB_URL: 'mongodb://127.0.0.1:1/'
    }
  })
  t.equal(result.status, 1)
  t.match(result.stderr, /^devstack: Java 17\+ is needed to run Apache Kafka locally, and no 'java' is on PATH/m)
})

t.test('an invalid port setting is refused with the variable named', async (t) => {
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=@polyshop/source', cli, 'status'], {
    encoding: 'utf8',
    env: { ...process.env, DEVSTACK_MONGO_PORT: 'mongo' }
  })
  t.equal(result.status, 1)
  t.match(result.stderr, /DEVSTACK_MONGO_PORT must be a TCP port number \(1-65535\), got "mongo"/)
})
