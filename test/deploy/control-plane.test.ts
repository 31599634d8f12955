// The chart on a real Kubernetes control plane: kube-apiserver, kube-controller-manager,
// kube-scheduler and etcd built from the Go module proxy, kwok providing fake nodes whose pods
// become Running and Ready. Proves the API server and its admission (Pod Security "restricted"
// included) accept everything and the scheduler places it; not that images run or Strimzi
// reconciles. The real-node test (real-node.test.ts) runs the images; this one keeps what only it
// checks: the kind scenario with Kafka, MongoDB and Mailpit in the cluster, an HPA, three zones.
// Opt-in: the first build of Kubernetes takes many minutes.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { ensureControlPlane, ensureGoTool, KUBERNETES_VERSION, kwokctlBinaryFlags } from '@polyshop/devstack'
import t from 'tap'
import { createRestrictedNamespace, installStrimziCrds, strictStrimziDryRun } from './cluster.js'
import { CHART } from './render.js'

const enabled = process.env.POLYSHOP_CONTROL_PLANE_TEST === '1'
const skip = enabled ? false : 'opt-in: POLYSHOP_CONTROL_PLANE_TEST=1 (builds Kubernetes, etcd and kwok from the Go module proxy once)'

t.setTimeout(40 * 60_000)

t.test('helm install --wait into a restricted namespace on a real control plane, then upgrade and uninstall', { skip }, async (t) => {
  const bins = ensureControlPlane()
  const helmBinary = ensureGoTool('helm')
  const work = mkdtempSync(join(tmpdir(), 'polyshop-kwok-'))
  const cluster = `polyshop-${process.pid}`
  const env = {
    ...process.env,
    // kwokctl finds kubectl on PATH (it would download one otherwise); its state stays in the temp dir.
    PATH: `${dirname(bins.kubectl)}:${process.env.PATH}`,
    KWOK_WORKDIR: work,
    KWOK_KUBE_VERSION: KUBERNETES_VERSION
  }
  const run = (command: string, args: string[], input?: string) =>
    execFileSync(command, args, { env, encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 })
  t.teardown(() => {
    try {
      run(bins.kwokctl, ['delete', 'cluster', '--name', cluster])
    } finally {
      rmSync(work, { recursive: true, force: true })
    }
  })

  // --kubeconfig: kwokctl would otherwise add its context to the user's ~/.kube/config.
  run(bins.kwokctl, [
    'create',
    'cluster',
    '--name',
    cluster,
    ...kwokctlBinaryFlags(bins),
    '--kube-admission',
    '--kubeconfig',
    join(work, 'kwokctl-kubeconfig.yaml'),
    '--wait',
    '3m'
  ])
  const kubeconfig = join(work, 'kubeconfig.yaml')
  writeFileSync(kubeconfig, run(bins.kwokctl, ['get', 'kubeconfig', '--name', cluster]))
  const kubectl = (...args: string[]) => run(bins.kubectl, ['--kubeconfig', kubeconfig, ...args])
  const helm = (...args: string[]) => run(helmBinary, ['--kubeconfig', kubeconfig, ...args])

  t.match(
    JSON.parse(kubectl('version', '-o', 'json')).serverVersion.gitVersion,
    KUBERNETES_VERSION,
    'the API server reports its real version'
  )

  // Three fake nodes in three zones, managed by kwok.
  const nodes = ['a', 'b', 'c'].map((zone) => ({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: `kwok-node-${zone}`,
      annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: {
        'kubernetes.io/hostname': `kwok-node-${zone}`,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'topology.kubernetes.io/zone': `zone-${zone}`,
        type: 'kwok'
      }
    },
    status: { allocatable: { cpu: '32', memory: '256Gi', pods: '110' }, capacity: { cpu: '32', memory: '256Gi', pods: '110' } }
  }))
  run(bins.kubectl, ['--kubeconfig', kubeconfig, 'apply', '-f', '-'], nodes.map((node) => JSON.stringify(node)).join('\n'))

  installStrimziCrds(kubectl)
  createRestrictedNamespace(kubectl, 'polyshop')

  // The kind scenario, adjusted only for a fake cluster: no PVCs (no provisioner), an HPA so it is exercised.
  const adjustments = [
    '--set',
    'mongodb.storage.ephemeral=true',
    '--set',
    'kafka.storage.type=ephemeral',
    '--set',
    'services.gateway.autoscaling.enabled=true'
  ]
  const kindValues = join(CHART, 'ci', 'kind-values.yaml')
  helm('install', 'polyshop', CHART, '--namespace', 'polyshop', '-f', kindValues, ...adjustments, '--wait', '--timeout', '5m')

  const list = (kinds: string) =>
    JSON.parse(kubectl('get', kinds, '--namespace', 'polyshop', '-o', 'json')).items as Array<{
      kind: string
      metadata: { name: string }
      spec: { replicas?: number }
      status: { conditions?: Array<{ type: string; status: string }>; readyReplicas?: number; availableReplicas?: number }
    }>
  const deployments = list('deployments')
  t.equal(deployments.length, 7, 'six services and Mailpit')
  for (const deployment of deployments) {
    t.ok(
      deployment.status.conditions?.some((c) => c.type === 'Available' && c.status === 'True'),
      `Deployment ${deployment.metadata.name} is Available`
    )
  }
  for (const statefulSet of list('statefulsets')) {
    t.equal(statefulSet.status.readyReplicas, statefulSet.spec.replicas, `StatefulSet ${statefulSet.metadata.name} is ready`)
  }
  for (const [kinds, count] of [
    ['poddisruptionbudgets', 7],
    ['horizontalpodautoscalers', 1],
    // default deny, DNS, six services, MongoDB and its init Job, Mailpit, the helm test pod
    ['networkpolicies', 12],
    ['ingresses', 1],
    ['kafkas.kafka.strimzi.io', 1],
    ['kafkanodepools.kafka.strimzi.io', 1],
    ['kafkatopics.kafka.strimzi.io', 4]
  ] as const) {
    t.equal(list(kinds).length, count, `${count} ${kinds}`)
  }
  // Every Strimzi object is accepted with strict field validation (unknown fields would be refused);
  // rendered with SCRAM on, so the KafkaUsers are checked too.
  const rendered = helm(
    'template',
    'polyshop',
    CHART,
    '--namespace',
    'polyshop',
    '--kube-version',
    KUBERNETES_VERSION,
    '-f',
    kindValues,
    ...adjustments,
    '--set',
    'kafka.authentication=true'
  )
  const strimzi = strictStrimziDryRun(kubectl, rendered, work)
  t.ok(
    strimzi.objects.some((o) => o.kind === 'KafkaUser'),
    'KafkaUsers are among them'
  )
  t.match(strimzi.output, /serverside-applied|unchanged|configured/)
  // The namespace really enforces "restricted": a privileged pod is refused.
  t.throws(
    () =>
      run(
        bins.kubectl,
        ['--kubeconfig', kubeconfig, 'apply', '--namespace', 'polyshop', '-f', '-'],
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'privileged' },
          spec: { containers: [{ name: 'c', image: 'busybox', securityContext: { privileged: true } }] }
        })
      ),
    /violates PodSecurity "restricted/,
    'a privileged pod is refused'
  )

  // Generated secrets (the JWT signing key, the admin password, MongoDB's) survive an upgrade.
  const secrets = () =>
    Object.fromEntries(
      ['polyshop-jwt', 'polyshop-admin', 'polyshop-mongodb'].map((name) => [
        name,
        JSON.parse(kubectl('get', 'secret', name, '--namespace', 'polyshop', '-o', 'json')).data
      ])
    )
  const before = secrets()
  // An upgrade with a changed value rolls the services and stays available.
  helm(
    'upgrade',
    'polyshop',
    CHART,
    '--namespace',
    'polyshop',
    '-f',
    kindValues,
    ...adjustments,
    '--set',
    'logLevel=debug',
    '--wait',
    '--timeout',
    '5m'
  )
  const configMap = JSON.parse(kubectl('get', 'configmap', 'polyshop-gateway', '--namespace', 'polyshop', '-o', 'json'))
  t.equal(configMap.data.LOG_LEVEL, 'debug', 'the new value is in the configuration')
  t.same(secrets(), before, 'the generated secrets are the same after the upgrade')
  for (const deployment of list('deployments')) {
    t.ok(
      deployment.status.conditions?.some((c) => c.type === 'Available' && c.status === 'True'),
      `${deployment.metadata.name} Available after the upgrade`
    )
  }

  helm('uninstall', 'polyshop', '--namespace', 'polyshop', '--wait', '--timeout', '5m')
  // Pods go after their owners, through the garbage collector: give it a moment.
  const leftovers = () =>
    kubectl(
      'get',
      'pods,deployments,statefulsets,services,configmaps,secrets,poddisruptionbudgets,horizontalpodautoscalers,networkpolicies,ingresses,serviceaccounts,jobs,persistentvolumeclaims,kafkas.kafka.strimzi.io,kafkanodepools.kafka.strimzi.io,kafkatopics.kafka.strimzi.io',
      '--namespace',
      'polyshop',
      '-l',
      'app.kubernetes.io/instance=polyshop',
      '-o',
      'name'
    ).trim()
  let left = leftovers()
  for (let i = 0; i < 60 && left !== ''; i++) {
    await new Promise((resolve) => setTimeout(resolve, 1000))
    left = leftovers()
  }
  t.equal(left, '', 'helm uninstall left nothing of the release behind')
})
