// `npm test`: static checks, then every test against a real Kafka broker and a real
// MongoDB-wire server. Servers come from KAFKA_BROKERS / MONGODB_URL when set; otherwise a
// fresh `test` stack is started on its own ports and stopped at the end, pass or fail.
//
//   npm test                        everything
//   npm test -- packages/outbox     only these tests (static checks skipped)
import { spawn } from 'node:child_process'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import {
  buildImages,
  ensureChromium,
  ensureContainerTools,
  ensureControlPlane,
  ensureGoTool,
  ensureRealNodeParts,
  ensureSchemathesis,
  ensureStandInImages,
  ensureStrimziCrds,
  removeRealNodes,
  removeTestContainers,
  repoRoot,
  stackProfile,
  startStack,
  stopStack
} from '@polyshop/devstack'
import { buildServices } from './build.js'
import { imageTable } from './images.js'

const bin = (name: string) => join(repoRoot, 'node_modules', '.bin', name)

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env, onOutput?: (text: string) => void): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: repoRoot, env, stdio: ['inherit', onOutput === undefined ? 'inherit' : 'pipe', 'inherit'] })
    child.once('error', (error) => {
      console.error(`could not run ${command}: ${error.message}`)
      resolve(127)
    })
    child.stdout?.on('data', (chunk: Buffer) => {
      process.stdout.write(chunk)
      onOutput?.(chunk.toString())
    })
    child.once('exit', (code, signal) => resolve(code ?? (signal === null ? 1 : 128)))
  })
}

interface Counts {
  pass: number
  fail: number
  skip: number
}

/** tap ends with `# { total: N, pass: P, fail: F, skip: S }`. */
function tapCounts(output: string): Counts | undefined {
  const matches = [...output.matchAll(/^# \{ total: (\d+)(?:, pass: (\d+))?(?:, fail: (\d+))?(?:, skip: (\d+))?/gm)]
  const last = matches.at(-1)
  if (last === undefined) return undefined
  const [, , pass = '0', fail = '0', skip = '0'] = last
  return { pass: Number(pass), fail: Number(fail), skip: Number(skip) }
}

/** The real-node test runs a whole cluster: alone, after the others (see main). */
const REAL_NODE_TEST = 'test/deploy/real-node.test.ts'

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)}s`
}

async function main(): Promise<number> {
  const only = process.argv.slice(2)
  const started = Date.now()
  if (only.length === 0) {
    for (const [name, command, args] of [
      ['typecheck', bin('tsc'), ['-p', 'tsconfig.json']],
      ['typecheck storefront', bin('tsc'), ['-p', 'services/gateway/storefront/tsconfig.json']],
      ['lint', bin('biome'), ['ci', '.']]
    ] as const) {
      console.log(`\n▶ ${name}`)
      const code = await run(command, [...args])
      if (code !== 0) return code
    }
  }

  // The tests run the services as their containers do, from the build.
  console.log('\n▶ build')
  const built = Date.now()
  await buildServices()
  console.log(`  services/*/dist in ${seconds(built)}`)

  // The chart checks use helm and kubectl-validate, built from the Go module proxy once; done here,
  // not inside a test file, so a cold cache does not count against a test's timeout.
  console.log('\n▶ deploy tools')
  const tools = Date.now()
  for (const tool of ['helm', 'kubectl-validate'] as const) ensureGoTool(tool)
  ensureStrimziCrds((line) => console.log(`  ${line}`))
  console.log(`  helm, kubectl-validate, the Strimzi CRDs ready in ${seconds(tools)}`)
  if (process.env.POLYSHOP_CONTROL_PLANE_TEST === '1') {
    const controlPlane = Date.now()
    ensureControlPlane((line) => console.log(`  ${line}`))
    console.log(`  kube-apiserver, kube-controller-manager, kube-scheduler, etcd, kwok ready in ${seconds(controlPlane)}`)
  }
  const realNode = process.env.POLYSHOP_REAL_NODE_TEST === '1' && (only.length === 0 || only.includes(REAL_NODE_TEST))

  // The images users build with Docker and skaffold, built from the same Dockerfile with buildah
  // (the Node base image made locally, no registry); test/containers runs them.
  if (only.length === 0 || realNode || only.some((path) => path.startsWith('test/containers'))) {
    console.log('\n▶ images')
    const imagesStarted = Date.now()
    const log = (line: string) => console.log(`  ${line}`)
    ensureContainerTools(log)
    const images = buildImages(undefined, log)
    console.log(`${imageTable(images)}\n  built in ${seconds(imagesStarted)}`)
    // compose.yaml's Kafka, MongoDB and Mailpit, which cannot be pulled here (test/containers/compose.test.ts).
    const standIns = Date.now()
    const built = ensureStandInImages(log)
    console.log(`  stand-ins ${Object.values(built).join(', ')} ready in ${seconds(standIns)}`)
  }
  if (realNode) {
    // test/deploy/real-node.test.ts: kubelet, kube-proxy, kube-router, containerd, the pause and CoreDNS images.
    const nodeParts = Date.now()
    ensureRealNodeParts((line) => console.log(`  ${line}`))
    console.log(`  the real node's binaries and images ready in ${seconds(nodeParts)}`)
  }

  // The storefront is tested in Debian's chromium (test/e2e/storefront.test.ts).
  console.log('\n▶ browser')
  console.log(`  ${ensureChromium((line) => console.log(`  ${line}`))}`)
  // The REST and GraphQL APIs are fuzzed by schemathesis (test/e2e/fuzz.test.ts), from PyPI once.
  console.log('\n▶ fuzzer')
  console.log(`  ${ensureSchemathesis((line) => console.log(`  ${line}`))}`)

  const profile = stackProfile('test')
  const external = Boolean(process.env.KAFKA_BROKERS) && Boolean(process.env.MONGODB_URL)
  // Stop what we start on Ctrl-C or SIGTERM too, not only when the tests end.
  let ours = { kafka: false, mongo: false }
  // Containers a test started are removed by its teardown; these catch a test killed on the way.
  const stop = async () => {
    for (const [what, remove] of [
      ['the test containers', removeTestContainers],
      ['a real node left by an interrupted test', removeRealNodes]
    ] as const) {
      try {
        remove()
      } catch (error) {
        console.error(`could not remove ${what}: ${error instanceof Error ? error.message : error}`)
      }
    }
    await stopStack(profile, ours)
  }
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void stop().finally(() => process.exit(130))
    })
  }
  if (!external) {
    // A clean slate each run: no topics, groups or databases left from the last one.
    await stopStack(profile)
    rmSync(profile.dir, { recursive: true, force: true })
  }
  console.log('\n▶ test servers')
  const stackStarted = Date.now()
  const stack = await startStack(profile, (line) => console.log(`  ${line}`))
  ours = stack.started
  console.log(`  ready in ${seconds(stackStarted)}: KAFKA_BROKERS=${stack.kafkaBrokers} MONGODB_URL=${stack.mongodbUrl}`)

  let code = 1
  try {
    // The real-node test starts a cluster that takes both cores for a while and rewrites the
    // machine's firewall (kube-router saves and restores the iptables filter table whole, racing
    // podman's network rules): it runs alone, after every other test.
    const runs =
      only.length === 0 && realNode
        ? [
            { name: 'all others', args: ['--exclude', '**/@(fixture*(s)|dist)/**', '--exclude', REAL_NODE_TEST] },
            { name: 'the real node', args: [REAL_NODE_TEST] }
          ]
        : [{ name: '', args: only }]
    const total: Counts = { pass: 0, fail: 0, skip: 0 }
    code = 0
    for (const { name, args } of runs) {
      console.log(`\n▶ tests${name === '' ? '' : `: ${name}`}`)
      let output = ''
      const runCode = await run(
        bin('tap'),
        args,
        { ...process.env, KAFKA_BROKERS: stack.kafkaBrokers, MONGODB_URL: stack.mongodbUrl },
        (text) => {
          output += text
        }
      )
      code ||= runCode
      const counts = tapCounts(output)
      if (counts === undefined) {
        console.error('tap printed no summary: no test ran')
        code ||= 1
        continue
      }
      total.pass += counts.pass
      total.fail += counts.fail
      total.skip += counts.skip
    }
    console.log(`\ntests: ${total.pass} passed, ${total.fail} failed, ${total.skip} skipped`)
  } finally {
    await stop()
  }
  console.log(`\nnpm test finished in ${seconds(started)} with exit code ${code}`)
  return code
}

main().then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error)
    process.exitCode = 1
  }
)
