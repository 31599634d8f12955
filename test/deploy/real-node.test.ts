// The chart on a one-node cluster of real parts (packages/devstack/src/real-node.ts): kubelet,
// kube-proxy, containerd with runc, CoreDNS and kube-network-policies, the six images npm test
// built. What users do, in order: helm install --wait into a namespace enforcing Pod Security
// "restricted", kubectl port-forward to the gateway and shop through it, then a rolling upgrade
// under traffic, helm test, helm uninstall. Kafka, the MongoDB-wire server, the SMTP server and
// the SMS webhook are the test's own, on this machine's address, given to the chart as external.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  ensureGoTool,
  ensureTopics,
  imageReference,
  imageServices,
  KUBERNETES_VERSION,
  machineAddress,
  POLYSHOP_TOPICS,
  type RealNode,
  startMongo,
  startRealNode,
  stopMongo
} from '@polyshop/devstack'
import { ADMIN, freePort, privateBroker, smsWebhook, smtpInbox } from '@polyshop/testkit'
import t from 'tap'
import { journeyTests } from '../e2e/journey.js'
import { createRestrictedNamespace, installStrimziCrds, strictStrimziDryRun } from './cluster.js'
import { CHART } from './render.js'

const enabled = process.env.POLYSHOP_REAL_NODE_TEST === '1'
const skip = enabled ? false : 'opt-in: POLYSHOP_REAL_NODE_TEST=1 (runs a kubelet, containerd and kube-proxy as root; .ci/run sets it)'

t.setTimeout(40 * 60_000)

const RELEASE = 'polyshop'
const NAMESPACE = 'polyshop'

interface Probe {
  target: string
  host: string
  port: number
}
type ProbeResult = Probe & { outcome: 'open' | 'timeout' | 'refused' | 'error'; detail?: string }

/**
 * A throwaway pod of the restricted profile running a Node.js script in the gateway's image; it
 * handles SIGTERM (as PID 1 nothing else would) and writes one line of JSON when done.
 */
function scriptPod(name: string, namespace: string, script: string, env: Record<string, string>) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { 'polyshop.test/pod': name } },
    spec: {
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: 5,
      securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: 'script',
          image: imageReference('gateway'),
          imagePullPolicy: 'Never',
          command: ['node', '--input-type=module', '--eval', `process.on('SIGTERM', () => process.exit(0))\n${script}`],
          env: Object.entries(env).map(([key, value]) => ({ name: key, value })),
          resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '96Mi' } },
          securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } }
        }
      ]
    }
  }
}

/**
 * TCP connects with a 3 s timeout, after a few seconds: a NetworkPolicy controller programs a new
 * pod's rules when it sees the pod's address, shortly after the pod starts.
 */
const PROBE_SCRIPT = `
import { connect } from 'node:net'
const probes = JSON.parse(process.env.PROBES)
await new Promise((resolve) => setTimeout(resolve, 5000))
const results = await Promise.all(probes.map((probe) => new Promise((resolve) => {
  const socket = connect({ host: probe.host, port: probe.port })
  const done = (outcome, detail) => { socket.destroy(); resolve({ ...probe, outcome, detail }) }
  socket.setTimeout(3000, () => done('timeout'))
  socket.once('connect', () => done('open'))
  socket.once('error', (error) => done(error.code === 'ECONNREFUSED' ? 'refused' : 'error', error.code ?? error.message))
})))
console.log('RESULT ' + JSON.stringify(results))
`

/**
 * Steady traffic like an ingress controller's: keep-alive connections to the gateway's Service,
 * a catalog read and a GraphQL query in turn, paced below the gateway's per-client rate limit.
 * SIGUSR2 ends it with a summary.
 */
const LOAD_SCRIPT = `
const gateway = process.env.GATEWAY_URL
let stop = false
const counts = { requests: 0, failed: 0, byStatus: {} }
const failures = []
process.on('SIGUSR2', () => { stop = true })
async function once(i) {
  const request = i % 2 === 0
    ? fetch(gateway + '/api/v1/products?limit=3')
    : fetch(gateway + '/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ categories { id name } }' }) })
  try {
    const response = await request
    const body = await response.text()
    counts.byStatus[response.status] = (counts.byStatus[response.status] ?? 0) + 1
    if (response.status !== 200 || body.includes('"errors"')) {
      counts.failed++
      if (failures.length < 20) failures.push({ at: new Date().toISOString(), status: response.status, body: body.slice(0, 300) })
    }
  } catch (error) {
    counts.failed++
    counts.byStatus.network = (counts.byStatus.network ?? 0) + 1
    if (failures.length < 20) failures.push({ at: new Date().toISOString(), error: String(error.cause?.code ?? error.cause ?? error) })
  }
  counts.requests++
}
async function worker(offset) {
  for (let i = offset; !stop; i += 2) {
    await once(i)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
// A new pod is let through the gateway's NetworkPolicy once the policy controller has seen it.
for (let admitted = false; !admitted; ) {
  admitted = await fetch(gateway + '/healthz').then((r) => r.ok, () => false)
  if (!admitted) await new Promise((resolve) => setTimeout(resolve, 200))
}
console.log('STARTED')
await Promise.all([worker(0), worker(1)])
console.log('RESULT ' + JSON.stringify({ ...counts, failures }))
await new Promise(() => {})
`

t.test(
  'the chart on a real node: install, shop through port-forward, NetworkPolicies, rolling upgrade, helm test, uninstall',
  { skip },
  async (t) => {
    const helmBinary = ensureGoTool('helm')
    const nodeIp = machineAddress()

    // The test's own servers, where pods reach them: this machine's address.
    const broker = await privateBroker(t, nodeIp)
    await ensureTopics(broker.brokers, POLYSHOP_TOPICS)
    const mongoDir = mkdtempSync(join(tmpdir(), 'polyshop-mongo-'))
    const mongoPort = await freePort()
    const mongo = await startMongo({ dir: mongoDir, port: mongoPort, host: nodeIp })
    t.teardown(async () => {
      await stopMongo(mongoDir)
      rmSync(mongoDir, { recursive: true, force: true })
    })
    const inbox = await smtpInbox(t, nodeIp)
    const sms = await smsWebhook(t, nodeIp)
    const started = Date.now()
    const node: RealNode = await startRealNode({
      images: imageServices().map((service) => imageReference(service)),
      log: (line) => t.comment(line)
    })
    const forwards: ChildProcess[] = []
    let stopped = false
    const stopAll = async () => {
      if (stopped) return
      stopped = true
      for (const forward of forwards) forward.kill()
      await node.stop()
    }
    t.teardown(stopAll)
    process.once('exit', () => node.kill())
    // The node is not left running when the test is interrupted (tap's timeout sends SIGTERM).
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        void stopAll().finally(() => process.exit(128 + (signal === 'SIGINT' ? 2 : 15)))
      })
    }
    t.comment(
      `node started in ${((Date.now() - started) / 1000).toFixed(0)} s: ${Object.entries(node.timings)
        .map(([step, s]) => `${step} ${s.toFixed(1)} s`)
        .join(', ')}`
    )
    const kubectl = (...args: string[]) => node.kubectlRun(args)
    const apply = (objects: unknown[]) => node.kubectlRun(['apply', '-f', '-'], objects.map((o) => JSON.stringify(o)).join('\n'))
    const helm = (...args: string[]) =>
      new Promise<string>((resolve, reject) => {
        const child = spawn(helmBinary, ['--kubeconfig', node.kubeconfig, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
        let output = ''
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk
        })
        child.stderr.on('data', (chunk: Buffer) => {
          output += chunk
        })
        child.once('exit', (code) =>
          code === 0 ? resolve(output) : reject(new Error(`helm ${args.join(' ')} exited ${code}:\n${output}`))
        )
      })
    const podLogs = async (namespace: string, pod: string, marker: string, timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs
      while (Date.now() < deadline) {
        const text = (() => {
          try {
            return kubectl('logs', '--namespace', namespace, pod)
          } catch {
            return ''
          }
        })()
        const line = text.split('\n').find((l) => l.startsWith(marker))
        if (line !== undefined) return line.slice(marker.length).trim()
        await sleep(500)
      }
      throw new Error(
        `${namespace}/${pod} printed no ${marker} within ${timeoutMs / 1000} s: ${kubectl('describe', 'pod', '--namespace', namespace, pod)}`
      )
    }

    t.equal(
      JSON.parse(kubectl('get', 'node', '-o', 'json')).items[0].status.nodeInfo.kubeletVersion,
      KUBERNETES_VERSION,
      'one real node, its kubelet the control plane’s version'
    )

    // The Strimzi objects the chart renders when it runs Kafka are accepted by the Strimzi 1.2 CRDs
    // (generated from Maven Central), with strict field validation.
    installStrimziCrds(kubectl)
    createRestrictedNamespace(kubectl, NAMESPACE)
    const strimzi = strictStrimziDryRun(
      kubectl,
      await helm(
        'template',
        RELEASE,
        CHART,
        '--namespace',
        NAMESPACE,
        '--kube-version',
        KUBERNETES_VERSION,
        '--set',
        'kafka.authentication=true'
      ),
      node.workDir
    )
    t.match(
      strimzi.output,
      /serverside-applied/,
      `the chart's ${strimzi.objects.length} Strimzi objects pass the Strimzi CRDs' strict validation`
    )

    // The images npm run images built: localhost/polyshop/<service>:dev unless configured otherwise.
    const built = imageReference('gateway')
    const kafkaPort = broker.brokers.split(':')[1] as string
    const smtpPort = new URL(inbox.url).port
    const smsPort = new URL(sms.url).port
    const values = [
      `image.repository=${built.slice(0, built.lastIndexOf('/'))}`,
      `image.tag=${built.slice(built.lastIndexOf(':') + 1)}`,
      'image.pullPolicy=Never',
      'kafka.enabled=false',
      `kafka.external.brokers=${broker.brokers}`,
      'mongodb.enabled=false',
      `mongodb.external.url=${mongo.url}{db}`,
      `notification.smtpUrl=${inbox.url}`,
      `notification.smsWebhookUrl=${sms.url}`,
      // The NetworkPolicies narrowed to exactly where this test's servers are.
      `networkPolicy.kafkaEgress.cidr=${nodeIp}/32`,
      `networkPolicy.kafkaEgress.ports={${kafkaPort}}`,
      `networkPolicy.mongodbEgress.cidr=${nodeIp}/32`,
      `networkPolicy.mongodbEgress.ports={${mongoPort}}`,
      `networkPolicy.notificationEgress.cidr=${nodeIp}/32`,
      `networkPolicy.notificationEgress.ports={${smtpPort},${smsPort}}`,
      'demoCatalog=true',
      `admin.email=${ADMIN.email}`,
      `admin.password=${ADMIN.password}`,
      'logLevel=warn'
    ].flatMap((value) => ['--set', value])

    const installStarted = Date.now()
    await helm('install', RELEASE, CHART, '--namespace', NAMESPACE, ...values, '--wait', '--timeout', '10m')
    const installSeconds = (Date.now() - installStarted) / 1000
    t.comment(`helm install --wait: ${installSeconds.toFixed(0)} s`)

    interface PodStatus {
      metadata: { name: string; labels?: Record<string, string> }
      status: {
        phase: string
        conditions?: Array<{ type: string; status: string }>
        containerStatuses?: Array<{
          restartCount: number
          ready: boolean
          lastState?: { terminated?: { reason?: string; exitCode?: number; finishedAt?: string } }
        }>
      }
    }
    const pods = () => JSON.parse(kubectl('get', 'pods', '--namespace', NAMESPACE, '-o', 'json')).items as PodStatus[]

    await t.test('every Deployment Available, every pod Ready by its probes and never restarted', async (t) => {
      const deployments = JSON.parse(kubectl('get', 'deployments', '--namespace', NAMESPACE, '-o', 'json')).items as Array<{
        metadata: { name: string }
        spec: { replicas: number }
        status: { conditions?: Array<{ type: string; status: string }>; readyReplicas?: number }
      }>
      t.equal(deployments.length, 6, 'six services')
      for (const deployment of deployments) {
        t.ok(
          deployment.status.conditions?.some((c) => c.type === 'Available' && c.status === 'True'),
          `${deployment.metadata.name} Available`
        )
        t.equal(deployment.status.readyReplicas, deployment.spec.replicas, `${deployment.metadata.name}: ${deployment.spec.replicas} ready`)
      }
      const all = pods()
      t.equal(
        all.length,
        deployments.reduce((sum, d) => sum + d.spec.replicas, 0),
        'a pod per replica, nothing else'
      )
      for (const pod of all) {
        t.ok(
          pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
          `${pod.metadata.name} Ready`
        )
        const status = pod.status.containerStatuses?.[0]
        // A restart says why: how the last run ended, and what it wrote.
        const why =
          (status?.restartCount ?? 0) === 0
            ? ''
            : `\nlast run: ${JSON.stringify(status?.lastState)}\n${(() => {
                try {
                  return kubectl('logs', pod.metadata.name, '--namespace', NAMESPACE, '--previous', '--tail', '40')
                } catch (error) {
                  return `(no previous logs: ${error instanceof Error ? error.message : String(error)})`
                }
              })()}`
        t.equal(status?.restartCount, 0, `${pod.metadata.name} never restarted${why}`)
      }
    })

    // kubectl port-forward, as the README tells users: a local port picked by kubectl.
    const portForward = async (target: string, port: number) => {
      const child = spawn(node.kubectl, ['--kubeconfig', node.kubeconfig, 'port-forward', '--namespace', NAMESPACE, target, `:${port}`], {
        stdio: ['ignore', 'pipe', 'pipe']
      })
      forwards.push(child)
      let output = ''
      return await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`kubectl port-forward ${target} printed no port: ${output}`)), 30_000)
        const onData = (chunk: Buffer) => {
          output += chunk
          const local = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(output)?.[1]
          if (local !== undefined) {
            clearTimeout(timer)
            resolve(`http://127.0.0.1:${local}`)
          }
        }
        child.stdout.on('data', onData)
        child.stderr.on('data', onData)
        child.once('exit', (code) => reject(new Error(`kubectl port-forward ${target} exited ${code}: ${output}`)))
      })
    }
    const services = JSON.parse(kubectl('get', 'services', '--namespace', NAMESPACE, '-o', 'json')).items as Array<{
      metadata: { name: string; labels: Record<string, string> }
      spec: { clusterIP: string; ports: Array<{ name: string; port: number }> }
    }>
    const service = (component: string) => {
      const found = services.find((s) => s.metadata.labels['app.kubernetes.io/component'] === component)
      if (found === undefined) throw new Error(`no Service for ${component}`)
      const port = (name: string) => found.spec.ports.find((p) => p.name === name)?.port as number
      return { name: found.metadata.name, http: port('http'), grpc: port('grpc') }
    }
    const gateway = await portForward(`svc/${service('gateway').name}`, service('gateway').http)
    const orderGrpc = await portForward(`svc/${service('order').name}`, service('order').grpc)

    await t.test('the admin account exists and the demo catalog is seeded', async (t) => {
      const login = await fetch(`${gateway}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(ADMIN)
      })
      t.equal(login.status, 200, 'the admin signs in through the forwarded port')
      const { user } = (await login.json()) as { user: { roles: string[] } }
      t.ok(user.roles.includes('admin'))
      const products = (await (await fetch(`${gateway}/api/v1/products?limit=100`)).json()) as { items: unknown[] }
      t.ok(products.items.length >= 60, `the catalog has the demo products (${products.items.length})`)
    })

    journeyTests(t, { gateway, orderGrpc, mails: async () => inbox.mails })

    await t.test('NetworkPolicies are enforced: only the allowed edges connect', async (t) => {
      kubectl('create', 'namespace', 'outsider')
      kubectl('create', 'namespace', 'traefik') // where the chart lets the ingress controller reach the gateway
      for (const namespace of ['outsider', 'traefik']) {
        kubectl('label', 'namespace', namespace, 'pod-security.kubernetes.io/enforce=restricted')
      }
      const fqdn = (component: string) => `${service(component).name}.${NAMESPACE}.svc.cluster.local`
      const targets: Array<Probe & { component: string }> = [
        { component: 'product', target: 'product gRPC', host: fqdn('product'), port: service('product').grpc },
        { component: 'order', target: 'order HTTP', host: fqdn('order'), port: service('order').http },
        { component: 'order', target: 'order gRPC', host: fqdn('order'), port: service('order').grpc },
        { component: 'user', target: 'user HTTP', host: fqdn('user'), port: service('user').http },
        { component: 'gateway', target: 'gateway HTTP', host: fqdn('gateway'), port: service('gateway').http }
      ]
      // Not covered by any policy: proves the probing pod itself has a working network and DNS.
      const apiServer: Probe = { target: 'API server', host: 'kubernetes.default.svc.cluster.local', port: 443 }

      // The edges the chart's policies open to pods labelled as the gateway: "<component>:<port>".
      const policies = JSON.parse(kubectl('get', 'networkpolicies', '--namespace', NAMESPACE, '-o', 'json')).items as Array<{
        spec: {
          podSelector: { matchLabels?: Record<string, string> }
          ingress?: Array<{ from?: Array<{ podSelector?: { matchLabels?: Record<string, string> } }>; ports?: Array<{ port: number }> }>
        }
      }>
      const fromGateway = new Set<string>()
      for (const policy of policies) {
        const component = policy.spec.podSelector.matchLabels?.['app.kubernetes.io/component']
        for (const rule of policy.spec.ingress ?? []) {
          if (rule.from?.some((peer) => peer.podSelector?.matchLabels?.['app.kubernetes.io/component'] === 'gateway')) {
            for (const { port } of rule.ports ?? []) fromGateway.add(`${component}:${port}`)
          }
        }
      }
      t.ok(fromGateway.size >= 3, `the gateway may call ${[...fromGateway].join(', ')}`)
      const gatewayLabels = JSON.parse(kubectl('get', 'deployment', service('gateway').name, '--namespace', NAMESPACE, '-o', 'json')).spec
        .selector.matchLabels as Record<string, string>

      const runProbes = async (name: string, namespace: string, probes: Probe[], labels: Record<string, string> = {}) => {
        const pod = scriptPod(name, namespace, PROBE_SCRIPT, { PROBES: JSON.stringify(probes) })
        Object.assign(pod.metadata.labels, labels)
        if (Object.keys(labels).length > 0) {
          // Labelled like the gateway, it must never become one of its Service's endpoints.
          Object.assign(pod.spec.containers[0] as object, { readinessProbe: { exec: { command: ['false'] }, periodSeconds: 60 } })
        }
        apply([pod])
        return JSON.parse(await podLogs(namespace, name, 'RESULT ')) as ProbeResult[]
      }
      const check = (where: string, results: ProbeResult[], open: (probe: ProbeResult) => boolean) => {
        for (const result of results) {
          const detail = `${where} → ${result.target} (${result.host}:${result.port}): ${result.outcome}${result.detail ? ` ${result.detail}` : ''}`
          // A policy's refusal is a dropped SYN (a timeout) or kube-router's ICMP reject (refused).
          if (open(result)) t.equal(result.outcome, 'open', detail)
          else t.ok(result.outcome === 'timeout' || result.outcome === 'refused', `blocked: ${detail}`)
        }
      }
      const [outsider, unlabelled, ingress, asGateway] = await Promise.all([
        runProbes('probe-outsider', 'outsider', [...targets, apiServer]),
        runProbes('probe-unlabelled', NAMESPACE, [...targets, apiServer]),
        runProbes('probe-ingress', 'traefik', targets),
        runProbes('probe-as-gateway', NAMESPACE, targets, gatewayLabels)
      ])
      check('another namespace', outsider, (r) => r.target === 'API server')
      check('the release namespace, no allowed labels', unlabelled, (r) => r.target === 'API server')
      check('the ingress controller namespace', ingress, (r) => r.target === 'gateway HTTP')
      check('a pod labelled as the gateway', asGateway, (r) =>
        fromGateway.has(`${targets.find((target) => target.target === r.target)?.component}:${r.port}`)
      )
      t.ok(
        asGateway.some((r) => r.outcome === 'open'),
        'the allowed edges connect (the same ports are listening)'
      )
      kubectl('delete', 'pod', '--namespace', 'outsider', 'probe-outsider', '--wait=false')
      kubectl('delete', 'pod', '--namespace', NAMESPACE, 'probe-unlabelled', 'probe-as-gateway', '--wait=false')
      kubectl('delete', 'pod', '--namespace', 'traefik', 'probe-ingress', '--wait=false')
    })

    await t.test('a rolling upgrade under steady traffic through the gateway Service fails no request', async (t) => {
      apply([
        scriptPod('load', 'traefik', LOAD_SCRIPT, {
          GATEWAY_URL: `http://${service('gateway').name}.${NAMESPACE}.svc.cluster.local:${service('gateway').http}`
        })
      ])
      await podLogs('traefik', 'load', 'STARTED')
      await sleep(5000) // traffic before the rollout
      const before = pods().map((p) => p.metadata.name)
      const upgradeStarted = Date.now()
      // A changed value: every service's configuration checksum changes, so all six roll.
      await helm('upgrade', RELEASE, CHART, '--namespace', NAMESPACE, ...values, '--set', 'logLevel=info', '--wait', '--timeout', '10m')
      const rolloutSeconds = (Date.now() - upgradeStarted) / 1000
      await sleep(5000) // and after it
      kubectl('exec', '--namespace', 'traefik', 'load', '--', 'node', '-e', "process.kill(1, 'SIGUSR2')")
      const result = JSON.parse(await podLogs('traefik', 'load', 'RESULT ')) as {
        requests: number
        failed: number
        byStatus: Record<string, number>
        failures: unknown[]
      }
      kubectl('delete', 'pod', '--namespace', 'traefik', 'load', '--wait=false')
      // helm --wait returns once the new pods are Ready; the old ones may still be draining
      // (Terminating, within their grace period). Wait for them to go, then require none left.
      const draining = pods()
        .map((p) => p.metadata.name)
        .filter((name) => before.includes(name))
      if (draining.length > 0) {
        try {
          kubectl('wait', '--for=delete', '--namespace', NAMESPACE, '--timeout=120s', ...draining.map((name) => `pod/${name}`))
        } catch (error) {
          t.comment(`old pods still present after 120 s: ${(error as Error).message}`)
        }
      }
      const after = pods().map((p) => p.metadata.name)
      t.same(
        after.filter((name) => before.includes(name)),
        [],
        `every pod was replaced (${before.length} → ${after.length} pods)`
      )
      t.comment(
        `rolling upgrade of six Deployments: ${rolloutSeconds.toFixed(0)} s; requests ${result.requests}, failed ${result.failed} ${JSON.stringify(result.byStatus)}`
      )
      t.ok(result.requests > 100, `steady traffic during the rollout (${result.requests} requests)`)
      t.equal(result.failed, 0, `0 failed requests of ${result.requests}${result.failed > 0 ? `: ${JSON.stringify(result.failures)}` : ''}`)
    })

    await t.test('helm test passes', async (t) => {
      const output = await helm('test', RELEASE, '--namespace', NAMESPACE, '--timeout', '3m')
      t.match(output, /Phase:\s+Succeeded/, 'the smoke-test pod succeeded')
    })

    await t.test('helm uninstall leaves nothing behind, and the node is clean after it stops', async (t) => {
      await helm('uninstall', RELEASE, '--namespace', NAMESPACE, '--wait', '--timeout', '5m')
      const left = () =>
        kubectl(
          'get',
          'pods,services,configmaps,secrets,deployments,replicasets,networkpolicies,poddisruptionbudgets,serviceaccounts',
          '--namespace',
          NAMESPACE,
          '-o',
          'name'
        )
          .split('\n')
          .filter((line) => line !== '' && line !== 'configmap/kube-root-ca.crt' && line !== 'serviceaccount/default')
      let remaining = left()
      for (let i = 0; i < 60 && remaining.length > 0; i++) {
        await sleep(1000)
        remaining = left()
      }
      t.same(remaining, [], 'no pod, Service, ConfigMap, Secret or other object of the release is left')
      for (const forward of forwards) forward.kill()
      await stopAll()
      t.same(node.leftovers(), [], 'no process, bridge, cgroup, mount or firewall chain of the node is left on the machine')
    })
  }
)
