// The Helm chart, checked without a cluster: helm lint, schema validation of every rendered
// object (Kubernetes 1.35 and the Strimzi 1.2 CRDs, unknown fields refused), and the invariants
// a reviewer would otherwise check by eye. What only a real cluster proves is in the README.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  composeImages,
  ensureGoTool,
  ensureStrimziCrds,
  goModuleDir,
  repoRoot,
  SERVICE_NODE_OPTIONS,
  servicePorts
} from '@polyshop/devstack'
import { Ajv } from 'ajv'
import t from 'tap'
import YAML from 'yaml'
import { type Container, matches, type PodSpec, type Workload, workloads } from './pod-spec.js'
import { CHART, helm, type K8sObject, render, SCENARIOS, skaffoldSchemaDir } from './render.js'

const SERVICES = ['gateway', 'user', 'product', 'order', 'recommendation', 'notification'] as const
const rendered = SCENARIOS.map((scenario) => ({ ...scenario, ...render(scenario.valuesFile) }))
const component = (labels: Record<string, string> | undefined) => labels?.['app.kubernetes.io/component'] ?? ''

t.test('helm lint --strict passes for the defaults and every scenario', async (t) => {
  for (const scenario of SCENARIOS) {
    const out = helm(['lint', '--strict', CHART, '--kube-version', '1.35.0', ...(scenario.valuesFile ? ['-f', scenario.valuesFile] : [])])
    t.match(out, /1 chart\(s\) linted, 0 chart\(s\) failed/, scenario.name)
  }
})

t.test('values.schema.json refuses unknown and mistyped values', async (t) => {
  for (const bad of ['bogus=1', 'services.gateway.replica=2', 'kafka.version=3.9.0', 'mongodb.replicas=2', 'logLevel=loud']) {
    t.throws(() => render(undefined, ['--set', bad]), /schema/, bad)
  }
  t.throws(
    () => render(undefined, ['--set', 'jwt.serviceAudience=polyshop']),
    /jwt.serviceAudience must differ from jwt.audience/,
    'service tokens cannot share the audience of access tokens'
  )
})

t.test('every rendered object is valid for Kubernetes 1.35, Strimzi 1.2 and Gateway API, unknown fields refused', async (t) => {
  // Generated from Strimzi's model classes on Maven Central (npm test does it before the tests).
  const strimzi = ensureStrimziCrds()
  const crds = mkdtempSync(join(tmpdir(), 'polyshop-crds-'))
  t.teardown(() => rmSync(crds, { recursive: true, force: true }))
  for (const file of readdirSync(strimzi)) writeFileSync(join(crds, file), readFileSync(join(strimzi, file)))
  // The HTTPRoute CRD ships in the Gateway API Go module, fetched from the module proxy.
  const gatewayApi = goModuleDir('sigs.k8s.io/gateway-api', 'v1.4.1')
  writeFileSync(
    join(crds, 'httproutes.yaml'),
    readFileSync(join(gatewayApi, 'config', 'crd', 'standard', 'gateway.networking.k8s.io_httproutes.yaml'))
  )
  const validate = (file: string) => {
    try {
      return {
        ok: true,
        out: execFileSync(ensureGoTool('kubectl-validate'), [file, '--version', '1.35', '--local-crds', crds], { encoding: 'utf8' })
      }
    } catch (error) {
      const failure = error as { stdout?: string; stderr?: string }
      return { ok: false, out: `${failure.stdout ?? ''}${failure.stderr ?? ''}` }
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'polyshop-rendered-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  for (const scenario of rendered) {
    const file = join(dir, `${scenario.name}.yaml`)
    writeFileSync(file, scenario.yaml)
    const result = validate(file)
    t.ok(result.ok, `${scenario.name}: ${result.ok ? 'valid' : result.out}`)
  }
  const kinds = new Set(rendered.flatMap((s) => s.objects.map((o) => o.kind)))
  for (const kind of ['Kafka', 'KafkaNodePool', 'KafkaTopic', 'KafkaUser', 'HTTPRoute', 'Ingress', 'HorizontalPodAutoscaler']) {
    t.ok(kinds.has(kind), `the scenarios render a ${kind}, so it is validated`)
  }
  // The validator really refuses: an unknown field in a Deployment and in a Kafka.
  const broken = rendered[0]?.yaml
    .replace('  revisionHistoryLimit: 5', '  revisionHistoryLimit: 5\n  replicaz: 3')
    .replace('    version: "4.3.1"', '    version: "4.3.1"\n    brokerz: 3')
  const brokenFile = join(dir, 'broken.yaml')
  writeFileSync(brokenFile, broken ?? '')
  const refused = validate(brokenFile)
  t.notOk(refused.ok, 'a rendering with unknown fields fails')
  t.match(refused.out, /replicaz/)
  t.match(refused.out, /brokerz/)
})

const skaffoldSchema = skaffoldSchemaDir()
t.test(
  'skaffold.yaml is valid skaffold/v4beta14',
  {
    skip:
      skaffoldSchema === undefined
        ? 'the skaffold v4beta14 JSON schema is not here (../shared/k8s-schemas/skaffold or SKAFFOLD_SCHEMA_DIR)'
        : false
  },
  async (t) => {
    const skaffold = YAML.parse(readFileSync(join(repoRoot, 'skaffold.yaml'), 'utf8'))
    const validate = new Ajv({ strict: false, allErrors: true }).compile(
      JSON.parse(readFileSync(join(skaffoldSchema ?? '', 'v4beta14.json'), 'utf8'))
    )
    t.ok(validate(skaffold), JSON.stringify(validate.errors))
    t.notOk(validate({ ...skaffold, build: { ...skaffold.build, bogus: true } }), 'unknown fields are refused')
  }
)

t.test('skaffold builds every image the chart deploys', async (t) => {
  const skaffold = YAML.parse(readFileSync(join(repoRoot, 'skaffold.yaml'), 'utf8'))
  const artifacts = (skaffold.build.artifacts as Array<{ image: string; docker: { buildArgs: { SERVICE: string } } }>).map((a) => a.image)
  t.same(artifacts.sort(), SERVICES.map((s) => `polyshop/${s}`).sort(), 'one artifact per service')
  const release = skaffold.deploy.helm.releases.find((r: { name: string }) => r.name === 'polyshop')
  for (const service of SERVICES) {
    t.equal(
      release.setValueTemplates[`services.${service}.image`],
      `{{.IMAGE_FULLY_QUALIFIED_polyshop_${service}}}`,
      `${service} runs the image skaffold built`
    )
  }
  const kind = rendered.find((s) => s.name === 'kind')
  for (const deployment of kind?.objects.filter(
    (o) => o.kind === 'Deployment' && SERVICES.includes(component(o.metadata.labels) as never)
  ) ?? []) {
    const image = workloads([deployment])[0]?.pod.containers[0]?.image ?? ''
    t.ok(artifacts.includes(image.split(':')[0] ?? ''), `${deployment.metadata.name}: ${image} is a skaffold artifact`)
  }
})

t.test('skaffold and compose.yaml build each image with the ports the chart gives that service (its EXPOSE)', async (t) => {
  const ports = servicePorts()
  const skaffold = YAML.parse(readFileSync(join(repoRoot, 'skaffold.yaml'), 'utf8'))
  for (const artifact of skaffold.build.artifacts as Array<{ docker: { buildArgs: { SERVICE: string; PORTS: string } } }>) {
    const { SERVICE, PORTS } = artifact.docker.buildArgs
    t.equal(PORTS, ports[SERVICE]?.join(' '), `skaffold: ${SERVICE}`)
  }
  const compose = YAML.parse(readFileSync(join(repoRoot, 'compose.yaml'), 'utf8'))
  const built = Object.values(compose.services as Record<string, { build?: { args: { SERVICE: string; PORTS: string } } }>).flatMap(
    (service) => (service.build === undefined ? [] : [service.build.args])
  )
  t.same(built.map((args) => args.SERVICE).sort(), [...SERVICES].sort(), 'compose builds every service')
  for (const { SERVICE, PORTS } of built) t.equal(PORTS, ports[SERVICE]?.join(' '), `compose: ${SERVICE}`)
  // The Dockerfile's own message for a build without SERVICE or PORTS names each service's.
  const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8')
  const named = Object.fromEntries(
    [...dockerfile.matchAll(/--build-arg SERVICE=([a-z]+) --build-arg "?PORTS=([0-9 ]+)"?'/g)].map((m) => [m[1], m[2]])
  )
  t.same(named, Object.fromEntries(Object.entries(ports).map(([service, list]) => [service, list.join(' ')])), 'the Dockerfile names them')
})

t.test('compose.yaml runs the Kafka, MongoDB and Mailpit versions the chart runs', async (t) => {
  const values = YAML.parse(readFileSync(join(CHART, 'values.yaml'), 'utf8'))
  const images = composeImages()
  t.equal(images.kafka, `apache/kafka:${values.kafka.version}`)
  t.equal(images['kafka-topics'], images.kafka, 'the topics are created with the same image')
  t.equal(images.mongodb, `${values.mongodb.image.repository}:${values.mongodb.image.tag}`)
  t.equal(images.mailpit, `${values.mailpit.image.repository}:${values.mailpit.image.tag}`)
  const compose = YAML.parse(readFileSync(join(repoRoot, 'compose.yaml'), 'utf8'))
  const topics = /for spec in ([^;]+); do/.exec(compose.services['kafka-topics'].command[0])?.[1]?.split(' ') ?? []
  t.same(
    topics.sort(),
    Object.entries(values.kafka.topics as Record<string, { partitions: number }>)
      .map(([topic, { partitions }]) => `${topic}:${partitions}`)
      .sort(),
    "compose creates the chart's topics with the same partitions"
  )
})

t.test('compose.yaml: every service the chart wires to Kafka gets its brokers and starts once the topics exist', async (t) => {
  type ComposeService = { environment?: Record<string, string>; depends_on?: Record<string, { condition: string }> | string[] }
  const compose = YAML.parse(readFileSync(join(repoRoot, 'compose.yaml'), 'utf8'), { merge: true }) as {
    services: Record<string, ComposeService>
  }
  const configMaps = render().objects.filter((o) => o.kind === 'ConfigMap')
  const withKafka = SERVICES.filter(
    (service) => 'KAFKA_BROKERS' in (configMaps.find((c) => c.metadata.name === `polyshop-${service}`)?.data ?? {})
  )
  t.ok(withKafka.includes('gateway'), 'the gateway is among them (live order status)')
  for (const service of withKafka) {
    const declared = compose.services[service]
    t.equal(declared?.environment?.KAFKA_BROKERS, 'kafka:9092', `${service}: KAFKA_BROKERS`)
    const after = Array.isArray(declared?.depends_on) ? undefined : declared?.depends_on?.['kafka-topics']
    t.same(after, { condition: 'service_completed_successfully' }, `${service} starts after kafka-topics`)
  }
})

t.test(
  'the helm test pod: restricted, the gateway image, the gateway Service, deleted once it passed; off with tests.enabled=false',
  async (t) => {
    const hooks = (extra: string[] = []) =>
      render(undefined, extra).objects.filter((o) => o.metadata.annotations?.['helm.sh/hook'] === 'test')
    const [pod] = hooks()
    t.equal(pod?.kind, 'Pod')
    t.equal(pod?.metadata.annotations?.['helm.sh/hook-delete-policy'], 'before-hook-creation,hook-succeeded')
    const spec = pod?.spec as unknown as PodSpec & { restartPolicy: string }
    t.equal(spec.restartPolicy, 'Never')
    t.equal(spec.automountServiceAccountToken, false)
    t.match(spec.securityContext, { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } })
    const container = spec.containers[0] as Container
    t.match(container.securityContext, { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } })
    t.equal(container.image, 'ghcr.io/polyshop/gateway:0.1.0', "the gateway's image: nothing else to pull")
    t.same(container.env, [{ name: 'GATEWAY_URL', value: 'http://polyshop-gateway:8080' }])
    t.equal(container.command?.at(-1), readFileSync(join(CHART, 'files', 'smoke-test.mjs'), 'utf8'), 'runs files/smoke-test.mjs')
    t.same(hooks(['--set', 'tests.enabled=false']), [], 'none with tests.enabled=false')
  }
)

t.test('with external Kafka and MongoDB, exactly the services with events and data may reach them, on their ports', async (t) => {
  const { objects } = render(undefined, [
    '--set',
    'kafka.enabled=false',
    '--set',
    'kafka.external.brokers=kafka.example.net:9092',
    '--set',
    'mongodb.enabled=false',
    '--set',
    'mongodb.external.url=mongodb://db.example.net/{db}',
    '--set',
    'networkPolicy.kafkaEgress.cidr=10.20.0.0/16',
    '--set',
    'networkPolicy.mongodbEgress.cidr=10.30.0.0/16'
  ])
  const outside = new Map<string, string[]>()
  for (const policy of objects.filter((o) => o.kind === 'NetworkPolicy')) {
    const spec = policy.spec as {
      podSelector: { matchLabels?: Record<string, string> }
      egress?: Array<{ to?: Array<{ ipBlock?: { cidr: string } }>; ports?: Array<{ port: number }> }>
    }
    for (const rule of spec.egress ?? []) {
      for (const peer of rule.to ?? []) {
        if (peer.ipBlock === undefined) continue
        const from = component(spec.podSelector.matchLabels)
        outside.set(from, [...(outside.get(from) ?? []), ...(rule.ports ?? []).map((p) => `${peer.ipBlock?.cidr}:${p.port}`)])
      }
    }
  }
  const wiring = {
    user: [true, true],
    product: [true, false],
    order: [true, true],
    recommendation: [true, true],
    notification: [true, true],
    gateway: [false, true]
  }
  for (const [service, [mongodb, kafka]] of Object.entries(wiring)) {
    const allowed = outside.get(service) ?? []
    t.equal(allowed.includes('10.30.0.0/16:27017'), mongodb, `${service} ${mongodb ? 'may' : 'may not'} reach the external MongoDB`)
    t.equal(allowed.includes('10.20.0.0/16:9092'), kafka, `${service} ${kafka ? 'may' : 'may not'} reach the external Kafka`)
  }
  t.same(
    [...outside.keys()].sort(),
    ['gateway', 'notification', 'order', 'product', 'recommendation', 'user'],
    'nothing else leaves the cluster'
  )
  t.same(outside.get('gateway'), ['10.20.0.0/16:9092'], 'the gateway: the external Kafka and nothing else outside')
})

function allContainers(workload: Workload): Container[] {
  return [...workload.pod.containers, ...(workload.pod.initContainers ?? [])]
}

for (const scenario of rendered) {
  t.test(`${scenario.name}: the invariants of the rendered chart`, async (t) => {
    const { objects } = scenario
    const pods = workloads(objects)
    const byKind = (kind: string) => objects.filter((o) => o.kind === kind)

    t.test('every pod meets the restricted Pod Security Standard', async (t) => {
      for (const { object, pod } of pods) {
        const where = `${object.kind}/${object.metadata.name}`
        t.equal(pod.securityContext?.runAsNonRoot, true, `${where}: runAsNonRoot`)
        t.same(pod.securityContext?.seccompProfile, { type: 'RuntimeDefault' }, `${where}: seccomp RuntimeDefault`)
        t.notOk(pod.hostNetwork || pod.hostPID || pod.hostIPC, `${where}: no host namespaces`)
        t.notOk(
          (pod.volumes ?? []).some((v) => 'hostPath' in v),
          `${where}: no hostPath volumes`
        )
        t.equal(pod.automountServiceAccountToken, false, `${where}: no service account token`)
        for (const container of allContainers({ object, labels: {}, pod })) {
          const security = container.securityContext ?? {}
          t.equal(security.allowPrivilegeEscalation, false, `${where}/${container.name}: no privilege escalation`)
          t.equal(security.readOnlyRootFilesystem, true, `${where}/${container.name}: read-only root filesystem`)
          t.ok(security.capabilities?.drop?.includes('ALL'), `${where}/${container.name}: drops ALL capabilities`)
          t.same(security.capabilities?.add ?? [], [], `${where}/${container.name}: adds none`)
          t.notOk(security.privileged, `${where}/${container.name}: not privileged`)
        }
      }
    })

    t.test('selectors match the pods they mean', async (t) => {
      for (const { object, labels } of pods) {
        const selector = (object.spec as { selector?: { matchLabels: Record<string, string> } }).selector
        if (object.kind !== 'Job')
          t.ok(selector && matches(selector.matchLabels, labels), `${object.metadata.name}: selector matches its pods`)
      }
      for (const service of byKind('Service')) {
        const selector = (service.spec as { selector: Record<string, string> }).selector
        t.ok(
          pods.some((p) => matches(selector, p.labels)),
          `Service ${service.metadata.name} selects pods`
        )
      }
      for (const pdb of byKind('PodDisruptionBudget')) {
        const selector = (pdb.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels
        t.ok(
          pods.some((p) => matches(selector, p.labels)),
          `PDB ${pdb.metadata.name} selects pods`
        )
      }
      for (const hpa of byKind('HorizontalPodAutoscaler')) {
        const target = (hpa.spec as { scaleTargetRef: { kind: string; name: string } }).scaleTargetRef
        t.ok(
          objects.some((o) => o.kind === target.kind && o.metadata.name === target.name),
          `HPA ${hpa.metadata.name} scales an existing ${target.kind}`
        )
      }
    })

    t.test('every Service port targets a port its pods declare; probes point at real ports and paths', async (t) => {
      for (const service of byKind('Service')) {
        const spec = service.spec as { selector: Record<string, string>; ports: Array<{ name: string; targetPort: string | number }> }
        const workload = pods.find((p) => matches(spec.selector, p.labels))
        const declared = workload?.pod.containers.flatMap((c) => c.ports ?? []) ?? []
        for (const port of spec.ports) {
          t.ok(
            declared.some((d) => d.name === port.targetPort || d.containerPort === port.targetPort),
            `${service.metadata.name}:${port.name} → ${port.targetPort}`
          )
        }
      }
      for (const { object, pod } of pods) {
        for (const container of pod.containers) {
          const ports = container.ports ?? []
          const declared = (port: string | number) => ports.some((p) => p.name === port || p.containerPort === port)
          for (const kind of ['startupProbe', 'readinessProbe', 'livenessProbe'] as const) {
            const probe = container[kind]
            if (object.kind === 'Job') continue
            t.ok(probe, `${object.metadata.name}: has a ${kind}`)
            if (probe?.httpGet) {
              t.ok(declared(probe.httpGet.port), `${object.metadata.name} ${kind}: port ${probe.httpGet.port} is declared`)
              if (SERVICES.includes(component(object.metadata.labels) as never)) {
                t.ok(
                  ['/healthz', '/readyz'].includes(probe.httpGet.path),
                  `${object.metadata.name} ${kind}: ${probe.httpGet.path} is served`
                )
              }
            }
            if (probe?.grpc) t.ok(declared(probe.grpc.port), `${object.metadata.name} ${kind}: gRPC port ${probe.grpc.port} is declared`)
            if (probe?.tcpSocket)
              t.ok(declared(probe.tcpSocket.port), `${object.metadata.name} ${kind}: port ${probe.tcpSocket.port} is declared`)
          }
        }
      }
      const order = pods.find((p) => component(p.labels) === 'order')?.pod.containers[0]
      t.ok(order?.readinessProbe?.grpc, 'the gRPC server is probed natively over grpc.health.v1')
    })

    t.test("every variable a service's configuration requires is set, and Kafka is Strimzi's bootstrap", async (t) => {
      const configMaps = new Map(byKind('ConfigMap').map((c) => [c.metadata.name, c.data ?? {}]))
      const kafka = byKind('Kafka')[0]
      for (const service of SERVICES) {
        const schemaModule = (await import(`../../services/${service}/src/config.js`)) as Record<
          string,
          { required?: string[]; properties: Record<string, { default?: unknown }> }
        >
        const schema = Object.entries(schemaModule).find(([name]) => name.endsWith('ConfigSchema'))?.[1]
        const required = (schema?.required ?? []).filter((name) => schema?.properties[name]?.default === undefined)
        const container = pods.find((p) => component(p.labels) === service && p.object.kind === 'Deployment')?.pod.containers[0]
        const fromConfigMaps = (container?.envFrom ?? []).flatMap((e) => Object.keys(configMaps.get(e.configMapRef?.name ?? '') ?? {}))
        const names = new Set([...(container?.env ?? []).map((e) => e.name), ...fromConfigMaps])
        for (const variable of required) t.ok(names.has(variable), `${service}: ${variable} is set`)
        const env = Object.assign({}, ...(container?.envFrom ?? []).map((e) => configMaps.get(e.configMapRef?.name ?? '') ?? {}))
        if ('KAFKA_BROKERS' in env && kafka !== undefined) {
          t.equal(
            env.KAFKA_BROKERS,
            `${kafka.metadata.name}-kafka-bootstrap:9093`,
            `${service}: KAFKA_BROKERS is the Strimzi bootstrap service's TLS port`
          )
        }
      }
      if (kafka !== undefined) {
        const topics = byKind('KafkaTopic').map((topic) => (topic.spec as { topicName: string }).topicName)
        t.same(topics.sort(), ['notification.dlq', 'order.events', 'recommendation.dlq', 'user.events'], 'a KafkaTopic per topic')
        for (const pool of byKind('KafkaNodePool')) {
          t.equal(pool.metadata.labels?.['strimzi.io/cluster'], kafka.metadata.name, 'the node pool belongs to the cluster')
          t.same((pool.spec as { roles: string[] }).roles, ['controller', 'broker'], 'dual-role KRaft nodes')
        }
      }
    })

    t.test('NetworkPolicies deny by default and allow exactly the edges of DESIGN.md', async (t) => {
      const policies = byKind('NetworkPolicy')
      if (policies.length === 0) {
        t.fail('no NetworkPolicy rendered')
        return
      }
      const denyAll = policies.find((p) => p.metadata.name.endsWith('-default-deny'))
      t.ok(denyAll, 'a default deny policy')
      const covered = (
        (denyAll?.spec ?? { podSelector: { matchExpressions: [] } }) as {
          podSelector: { matchExpressions: Array<{ key: string; values: string[] }> }
        }
      ).podSelector.matchExpressions.find((e) => e.key === 'app.kubernetes.io/component')?.values
      for (const { labels } of pods) t.ok(covered?.includes(component(labels)), `${component(labels)} pods are under the default deny`)
      const dns = policies.find((p) => p.metadata.name.endsWith('-dns'))
      const resolving = (
        (dns?.spec ?? { podSelector: { matchExpressions: [] } }) as {
          podSelector: { matchExpressions: Array<{ key: string; values: string[] }> }
        }
      ).podSelector.matchExpressions.find((e) => e.key === 'app.kubernetes.io/component')?.values
      t.ok(resolving?.includes('gateway'), 'the gateway may resolve names (the Kafka bootstrap and brokers among them)')

      type Peer = { podSelector?: { matchLabels?: Record<string, string> }; namespaceSelector?: unknown; ipBlock?: { cidr: string } }
      type Rule = { from?: Peer[]; to?: Peer[]; ports?: Array<{ port: number }> }
      const edges = new Set<string>()
      const egress = new Set<string>()
      const values = YAML.parse(scenario.valuesFile ? readFileSync(scenario.valuesFile, 'utf8') : '{}') ?? {}
      const metricsSelector = values.networkPolicy?.metricsNamespaceSelector
      const isMetrics = (selector: unknown) => metricsSelector !== undefined && JSON.stringify(selector) === JSON.stringify(metricsSelector)
      for (const policy of policies) {
        const spec = policy.spec as { podSelector: { matchLabels?: Record<string, string> }; ingress?: Rule[]; egress?: Rule[] }
        const target = component(spec.podSelector.matchLabels)
        if (target === '') continue
        for (const rule of spec.ingress ?? []) {
          for (const peer of rule.from ?? []) {
            const from = peer.namespaceSelector
              ? isMetrics(peer.namespaceSelector)
                ? 'metrics'
                : 'ingress-controller'
              : component(peer.podSelector?.matchLabels)
            for (const port of rule.ports ?? []) edges.add(`${from} -> ${target}:${port.port}`)
          }
        }
        for (const rule of spec.egress ?? []) {
          for (const peer of rule.to ?? []) {
            const to =
              peer.podSelector?.matchLabels?.['strimzi.io/kind'] === 'Kafka'
                ? 'kafka'
                : peer.ipBlock
                  ? 'outside'
                  : component(peer.podSelector?.matchLabels)
            for (const port of rule.ports ?? []) egress.add(`${target} -> ${to}:${port.port}`)
          }
        }
      }
      // Where Prometheus scrapes: the gateway's management port (never the public one), else the HTTP port.
      const scrapePort = (service: string) => {
        const ports = pods.find((p) => component(p.labels) === service)?.pod.containers[0]?.ports ?? []
        return (ports.find((port) => port.name === 'management') ?? ports[0])?.containerPort
      }
      const expected = new Set([
        'ingress-controller -> gateway:8080',
        'gateway -> user:3001',
        'gateway -> product:3002',
        'gateway -> order:50051',
        'gateway -> recommendation:3004',
        'product -> user:3001',
        'order -> user:3001',
        'recommendation -> user:3001',
        'notification -> user:3001',
        'order -> product:50052',
        'recommendation -> product:3002',
        ...['user', 'product', 'order', 'recommendation', 'notification', 'mongodb', 'mongodb-init'].map((c) => `${c} -> mongodb:27017`),
        ...(values.mailpit?.enabled === true ? ['notification -> mailpit:1025'] : []),
        // The `helm test` pod (on unless tests.enabled is false).
        ...(values.tests?.enabled === false ? [] : ['smoke-test -> gateway:8080']),
        // Prometheus, where configured, scrapes each service's HTTP port, the gateway's management port.
        ...(metricsSelector === undefined ? [] : SERVICES.map((service) => `metrics -> ${service}:${scrapePort(service)}`))
      ])
      t.same([...edges].sort(), [...expected].sort(), 'ingress edges')
      // Every allowed ingress between polyshop's pods is matched by the caller's egress.
      for (const edge of expected) {
        if (/^(ingress-controller|metrics|mongodb) ->/.test(edge)) continue
        t.ok(egress.has(edge), `egress allows ${edge}`)
      }
      for (const service of ['gateway', 'user', 'order', 'recommendation', 'notification']) {
        t.ok(egress.has(`${service} -> kafka:9093`), `${service} may reach Kafka (TLS)`)
      }
      t.notOk(
        [...egress].some((e) => e.startsWith('product -> kafka')),
        'the product service has no business with Kafka'
      )
      t.notOk(
        [...egress].some((e) => e.startsWith('gateway -> mongodb')),
        'the gateway owns no data'
      )
      t.same(
        [...egress].filter((e) => e.startsWith('gateway ->')).sort(),
        [
          'gateway -> kafka:9093',
          'gateway -> order:50051',
          'gateway -> product:3002',
          'gateway -> recommendation:3004',
          'gateway -> user:3001'
        ],
        'the gateway reaches the services it calls and Kafka (live order status), nothing else but DNS'
      )
      t.ok(
        [...egress].some((e) => e.startsWith('notification -> outside')),
        'notification may reach SMTP and the SMS provider'
      )
      t.notOk(
        [...egress].some((e) => e.includes('-> outside') && !e.startsWith('notification')),
        'nothing else leaves the cluster'
      )
    })

    t.test('graceful termination matches the services’ drain', async (t) => {
      for (const { object, pod } of pods.filter((p) => SERVICES.includes(component(p.labels) as never))) {
        const grace = (pod as unknown as { terminationGracePeriodSeconds: number }).terminationGracePeriodSeconds
        const preStop =
          (pod.containers[0] as unknown as { lifecycle?: { preStop?: { sleep?: { seconds: number } } } }).lifecycle?.preStop?.sleep
            ?.seconds ?? 0
        // The services give up draining after 25 s (packages/lifecycle); the preStop sleep comes first.
        t.ok(grace >= preStop + 25, `${object.metadata.name}: ${grace} s covers a ${preStop} s preStop and the 25 s drain`)
      }
    })
  })
}

t.test('the Dockerfile installs from every workspace manifest and runs the tested start command as a non-root user', async (t) => {
  const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8')
  // npm ci refuses a lockfile whose workspaces it cannot see: every one the lockfile lists must be copied.
  const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, { link?: boolean }> }
  const workspaces = Object.entries(lock.packages)
    .filter(([path, entry]) => path.startsWith('node_modules/') && entry.link === true)
    .map(([, entry]) => (entry as { resolved?: string }).resolved ?? '')
  t.ok(workspaces.length >= 20, `${workspaces.length} workspaces in the lockfile`)
  for (const workspace of workspaces) t.match(dockerfile, `COPY ${workspace}/package.json ${workspace}/`, `copies ${workspace}'s manifest`)
  t.match(dockerfile, /^USER node$/m)
  t.match(dockerfile, `ENV NODE_OPTIONS="${SERVICE_NODE_OPTIONS}"`, 'the heap settings the tests and benchmarks run with')
  t.match(dockerfile, /^FROM \$\{NODE_IMAGE\}$/m)
  t.match(dockerfile, /ARG NODE_IMAGE=node:(22|24)\.\d+\.\d+-bookworm-slim/, 'a pinned, supported Node LTS')
  t.match(dockerfile, /--omit=dev/)
  const cmd = /^CMD (\[.*\])$/m.exec(dockerfile)?.[1] ?? '[]'
  t.same(JSON.parse(cmd), ['node', '--enable-source-maps', 'dist/server.js'])
  for (const service of SERVICES) {
    const manifest = JSON.parse(readFileSync(join(repoRoot, 'services', service, 'package.json'), 'utf8')) as { scripts: { start: string } }
    t.equal(manifest.scripts.start, JSON.parse(cmd).join(' '), `${service}: the image runs its start script, which the tests run`)
  }
  const ignore = readFileSync(join(repoRoot, '.dockerignore'), 'utf8')
  for (const entry of ['**/node_modules', '**/dist', '.git']) t.match(ignore, entry)
})

t.test('each service has a MongoDB user of its own, allowed only its own database', async (t) => {
  const { objects } = render()
  const secret = objects.find((o) => o.kind === 'Secret' && o.metadata.name.endsWith('-mongodb'))
  const withData = ['user', 'product', 'order', 'recommendation', 'notification']
  t.same(
    Object.keys(secret?.stringData ?? {}).sort(),
    ['replica-set-key', 'root-password', ...withData.map((service) => `${service}-password`)].sort(),
    'a password per service, no shared one'
  )
  const users = new Set<string>()
  for (const workload of workloads(objects).filter((w) => w.object.kind === 'Deployment')) {
    const service = component(workload.labels)
    const env = workload.pod.containers[0]?.env ?? []
    const url = env.find((e) => e.name === 'MONGODB_URL')?.value
    if (!withData.includes(service)) {
      t.equal(url, undefined, `${service} gets no database`)
      continue
    }
    const password = env.find((e) => e.name === 'MONGODB_PASSWORD')?.valueFrom as { secretKeyRef: { key: string } }
    t.equal(password.secretKeyRef.key, `${service}-password`, `${service} reads only its own password`)
    const parsed = new URL(url?.replace('$(MONGODB_PASSWORD)', 'x') ?? '')
    t.equal(parsed.username, `polyshop-${service}`)
    t.equal(parsed.pathname, `/polyshop_${service}`)
    t.equal(parsed.searchParams.get('authSource'), `polyshop_${service}`, 'the user lives in its own database')
    users.add(parsed.username)
  }
  t.equal(users.size, withData.length, 'no two services share a user')
  const init = objects.find((o) => o.kind === 'Job' && o.metadata.name.includes('-mongodb-init'))
  const script = JSON.stringify(init?.spec)
  t.match(script, /role: 'readWrite', db: database/, 'the init Job grants readWrite on the one database')
  t.notMatch(script, /APP_PASSWORD/, 'and creates no shared user')
})

t.test('the services reach the chart’s Kafka over TLS, verifying the brokers against Strimzi’s cluster CA', async (t) => {
  interface Listener {
    name: string
    port: number
    tls: boolean
    authentication?: { type: string }
  }
  const listenersOf = (rendered: K8sObject[]): Listener[] =>
    ((rendered.find((o) => o.kind === 'Kafka')?.spec ?? {}) as { kafka?: { listeners?: Listener[] } }).kafka?.listeners ?? []
  const { objects } = render()
  const cluster = objects.find((o) => o.kind === 'Kafka')?.metadata.name ?? ''
  t.same(
    listenersOf(objects).map((l) => [l.name, l.port, l.tls, l.authentication?.type]),
    [['tls', 9093, true, 'scram-sha-512']],
    'one listener: TLS with SCRAM'
  )
  const users = workloads(objects).filter((w) =>
    ['gateway', 'user', 'order', 'recommendation', 'notification'].includes(component(w.labels))
  )
  t.equal(users.length, 5)
  for (const workload of users) {
    const container = workload.pod.containers[0]
    const path = container?.env?.find((e) => e.name === 'KAFKA_TLS_CA_PATH')?.value
    const mount = container?.volumeMounts?.find((m) => m.mountPath === path)
    const volume = (workload.pod.volumes ?? []).find((v) => v.name === mount?.name) as { secret?: { secretName: string } } | undefined
    t.equal(
      volume?.secret?.secretName,
      `${cluster}-cluster-ca-cert`,
      `${component(workload.labels)}: the cluster CA, mounted (renewals reach the running pod)`
    )
  }
  const plain = listenersOf(render(undefined, ['--set', 'kafka.tls=false']).objects)[0]
  t.same([plain?.port, plain?.tls], [9092, false], 'kafka.tls=false: plain text on 9092')
})

t.test('the gateway gets Kafka as every service that uses it does: the brokers, its own SCRAM user, the cluster CA', async (t) => {
  const usesKafka = ['gateway', 'user', 'order', 'recommendation', 'notification']
  /** Per service: its KAFKA_* variables (ConfigMap and Secret references) and where the cluster CA is mounted from. */
  const kafkaWiring = (extra: string[] = []) => {
    const { objects } = render(undefined, extra)
    const configMaps = new Map(objects.filter((o) => o.kind === 'ConfigMap').map((c) => [c.metadata.name, c.data ?? {}]))
    const users = objects.filter((o) => o.kind === 'KafkaUser').map((o) => o.metadata.name)
    const wiring = workloads(objects)
      .filter((w) => w.object.kind === 'Deployment' && SERVICES.includes(component(w.labels) as never))
      .map((w) => {
        const container = w.pod.containers[0]
        const variables: Record<string, unknown> = Object.assign(
          {},
          ...(container?.envFrom ?? []).map((e) => configMaps.get(e.configMapRef?.name ?? '') ?? {}),
          Object.fromEntries((container?.env ?? []).map((e) => [e.name, e.value ?? e.valueFrom]))
        )
        const mount = container?.volumeMounts?.find((m) => m.name === 'kafka-ca')
        const volume = (w.pod.volumes ?? []).find((v) => v.name === 'kafka-ca') as { secret?: { secretName: string } } | undefined
        return [
          component(w.labels),
          {
            kafka: Object.fromEntries(Object.entries(variables).filter(([name]) => name.startsWith('KAFKA_'))),
            ca: mount === undefined ? null : { path: mount.mountPath, readOnly: mount.readOnly, secret: volume?.secret?.secretName }
          }
        ] as const
      })
    return { users, wiring: Object.fromEntries(wiring) }
  }
  const sasl = (service: string) => ({
    KAFKA_SASL_USERNAME: `polyshop-${service}`,
    KAFKA_SASL_PASSWORD: { secretKeyRef: { name: `polyshop-${service}`, key: 'password' } }
  })
  const ca = { path: '/etc/polyshop/kafka-ca', readOnly: true, secret: 'polyshop-kafka-cluster-ca-cert' }

  const defaults = kafkaWiring()
  t.same(Object.keys(defaults.wiring).sort(), [...SERVICES].sort())
  for (const service of SERVICES) {
    const expected = usesKafka.includes(service)
      ? {
          kafka: { KAFKA_BROKERS: 'polyshop-kafka-kafka-bootstrap:9093', KAFKA_TLS_CA_PATH: ca.path, ...sasl(service) },
          ca
        }
      : { kafka: {}, ca: null }
    t.same(defaults.wiring[service], expected, `${service}: ${usesKafka.includes(service) ? 'TLS, SCRAM, the CA mounted' : 'no Kafka'}`)
  }
  // The SCRAM password is the one Strimzi's User Operator writes for the service's own KafkaUser.
  t.ok(defaults.users.includes('polyshop-gateway'), 'the Secret the gateway reads belongs to its KafkaUser')

  const plain = kafkaWiring(['--set', 'kafka.tls=false'])
  t.same(
    plain.wiring.gateway,
    { kafka: { KAFKA_BROKERS: 'polyshop-kafka-kafka-bootstrap:9092', ...sasl('gateway') }, ca: null },
    'kafka.tls=false: port 9092, no CA path and no CA volume'
  )
  const open = kafkaWiring(['--set', 'kafka.authentication=false'])
  t.same(open.users, [], 'kafka.authentication=false: no KafkaUsers')
  t.same(
    open.wiring.gateway,
    { kafka: { KAFKA_BROKERS: 'polyshop-kafka-kafka-bootstrap:9093', KAFKA_TLS_CA_PATH: ca.path }, ca },
    'kafka.authentication=false: TLS without a SCRAM user'
  )
  const external = kafkaWiring(['--set', 'kafka.enabled=false', '--set', 'kafka.external.brokers=kafka.example.net:9092'])
  for (const service of usesKafka) {
    t.same(
      external.wiring[service],
      { kafka: { KAFKA_BROKERS: 'kafka.example.net:9092' }, ca: null },
      `external Kafka: ${service} gets its brokers`
    )
  }
})

t.test('each KafkaUser may do exactly what its service does; only their pods reach the listener', async (t) => {
  const { objects } = render()
  type Acl = { resource: { type: string; name: string; patternType: string }; operations: string[] }
  const acls = Object.fromEntries(
    objects
      .filter((o) => o.kind === 'KafkaUser')
      .map((o) => [
        o.metadata.name.replace(/^polyshop-/, ''),
        ((o.spec as { authorization: { acls: Acl[] } }).authorization.acls ?? []).map(
          (acl) => `${acl.resource.type} ${acl.resource.name} (${acl.resource.patternType}): ${acl.operations.join(',')}`
        )
      ])
  )
  t.same(Object.keys(acls).sort(), ['gateway', 'notification', 'order', 'recommendation', 'user'], 'one per service that uses Kafka')
  t.same(
    acls.gateway,
    ['topic order.events (literal): Read,Describe', 'group gateway-live- (prefix): Read'],
    "the gateway: read order.events, in its replicas' own groups (gateway-live-<host>-<random>), nothing else"
  )
  t.same(acls.user, ['topic user.events (literal): Write,Describe'])
  t.same(acls.order, ['topic order.events (literal): Write,Describe'])
  t.same(acls.recommendation, [
    'topic order.events (literal): Read,Describe',
    'topic recommendation.dlq (literal): Write,Describe',
    'group recommendation (literal): Read'
  ])
  t.same(acls.notification, [
    'topic user.events (literal): Read,Describe',
    'topic order.events (literal): Read,Describe',
    'topic notification.dlq (literal): Write,Describe',
    'group notification (literal): Read'
  ])
  // The prefix is the one the gateway names its groups with, in one place in its code.
  const { LIVE_GROUP_PREFIX } = (await import('../../services/gateway/src/live/order-events-feed.js')) as { LIVE_GROUP_PREFIX: string }
  t.ok(
    acls.gateway?.includes(`group ${LIVE_GROUP_PREFIX} (prefix): Read`),
    `the ACL's group prefix is the gateway's (${LIVE_GROUP_PREFIX})`
  )
  type PeerSelector = { podSelector: { matchExpressions: Array<{ key: string; values: string[] }> } }
  const kafka = objects.find((o) => o.kind === 'Kafka')?.spec as { kafka: { listeners: Array<{ networkPolicyPeers: PeerSelector[] }> } }
  const peers = kafka.kafka.listeners[0]?.networkPolicyPeers[0]?.podSelector.matchExpressions.find(
    (e) => e.key === 'app.kubernetes.io/component'
  )?.values
  t.same([...(peers ?? [])].sort(), ['gateway', 'notification', 'order', 'recommendation', 'user'], "the listener's NetworkPolicy peers")
})

t.test('WebSockets through the Ingress: Contour is told which route upgrades; other controllers need nothing', async (t) => {
  const ingress = (className: string) =>
    render(undefined, ['--set', 'ingress.enabled=true', '--set', `ingress.className=${className}`]).objects.find(
      (o) => o.kind === 'Ingress'
    )
  t.same(ingress('contour')?.metadata.annotations, { 'projectcontour.io/websocket-routes': '/graphql' })
  t.equal(ingress('traefik')?.metadata.annotations, undefined)
  t.equal(ingress('nginx')?.metadata.annotations, undefined, 'ingress-nginx: its 60 s timeouts outlast the pings, nothing is set')
  // values.yaml tells operators the ping interval its advice rests on: it must be the gateway's default.
  const { GatewayConfigSchema } = (await import('../../services/gateway/src/config.js')) as {
    GatewayConfigSchema: { properties: Record<string, { default?: unknown }> }
  }
  const ping = GatewayConfigSchema.properties.LIVE_PING_INTERVAL_MS?.default
  t.equal(typeof ping, 'number')
  t.match(
    readFileSync(join(CHART, 'values.yaml'), 'utf8'),
    `WebSocket ping every ${Number(ping) / 1000} s (LIVE_PING_INTERVAL_MS)`,
    'values.yaml states the ping interval the gateway uses'
  )
})
