// The six service images (npm run images, which npm test runs first) as podman containers, set
// up as the chart sets up their pods: the chart is rendered with external Kafka and MongoDB, and
// each Deployment's environment (ConfigMap and Secrets), memory limit and security context become
// the container's. The containers share the host's network, as the Kafka broker and the
// MongoDB-wire server of the test do; the only change to the chart's settings is the ports, moved
// to free ones so a running `npm start` or another test cannot collide, with each Service's name
// resolving to the loopback address.
import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { promisify } from 'node:util'
import { containerEnv, imageReference, removeTestContainers } from '@polyshop/devstack'
import { eventually, freePort } from '@polyshop/testkit'
import { type Container, type PodSpec, type Workload, workloads } from '../deploy/pod-spec.js'
import { type K8sObject, render } from '../deploy/render.js'

const run = promisify(execFile)

interface Teardown {
  teardown(fn: () => unknown): void
}

export interface ContainerService {
  name: string
  container: string
  /** http://127.0.0.1:<port> */
  url: string
  grpcUrl?: string
  /** Milliseconds from `podman run` to the first 200 from /readyz. */
  startToReadyMs: number
}

export interface ContainerStack {
  services: Record<string, ContainerService>
  gateway: string
  orderGrpc: string
  podman: (args: string[]) => Promise<string>
  /** SIGTERM (podman stop) and the exit code the service ended with. */
  stop: (service: string) => Promise<number>
  /** Everything the chart rendered for this stack. */
  objects: K8sObject[]
  /** Runs a rendered Pod (its first container) to completion as the stack's containers run: its exit code and output. */
  runPod: (pod: K8sObject, env?: Record<string, string>) => Promise<{ code: number; output: string }>
}

export async function podman(args: string[]): Promise<string> {
  const { stdout } = await run('podman', args, { env: containerEnv(), maxBuffer: 64 * 1024 * 1024 })
  return stdout.trim()
}

function decodeSecrets(objects: K8sObject[]): Map<string, Record<string, string>> {
  const secrets = new Map<string, Record<string, string>>()
  for (const object of objects.filter((o) => o.kind === 'Secret')) {
    const data = Object.fromEntries(
      Object.entries(object.data ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')])
    )
    secrets.set(object.metadata.name, { ...data, ...object.stringData })
  }
  return secrets
}

/** A pod's environment as the kubelet would give it: envFrom ConfigMaps, then env with Secret references resolved. */
function podEnvironment(workload: Workload, objects: K8sObject[]): Record<string, string> {
  const container = workload.pod.containers[0]
  if (container === undefined) throw new Error(`${workload.object.metadata.name} has no container`)
  const configMaps = new Map(objects.filter((o) => o.kind === 'ConfigMap').map((o) => [o.metadata.name, o.data ?? {}]))
  const secrets = decodeSecrets(objects)
  const env: Record<string, string> = {}
  for (const source of container.envFrom ?? []) Object.assign(env, configMaps.get(source.configMapRef?.name ?? '') ?? {})
  for (const entry of container.env ?? []) {
    if (entry.value !== undefined) {
      // The kubelet expands $(NAME) from variables defined before it; $$ is a literal $.
      env[entry.name] = entry.value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name?: string) =>
        name === undefined ? '$' : (env[name] ?? whole)
      )
      continue
    }
    const ref = (entry.valueFrom as { secretKeyRef?: { name: string; key: string; optional?: boolean } } | undefined)?.secretKeyRef
    const value = ref === undefined ? undefined : secrets.get(ref.name)?.[ref.key]
    if (value !== undefined) env[entry.name] = value
    else if (ref?.optional !== true)
      throw new Error(`${entry.name} of ${workload.object.metadata.name} refers to nothing the chart rendered`)
  }
  return env
}

/** The podman flags for what a pod's (and its first container's) security contexts, resources and /tmp volume enforce. */
function enforcedByChart(name: string, spec: PodSpec): string[] {
  const container = spec.containers[0] as Container & {
    resources?: { limits?: { memory?: string } }
    volumeMounts?: Array<{ name: string; mountPath: string }>
  }
  const pod = spec.securityContext as { runAsUser?: number; runAsGroup?: number; runAsNonRoot?: boolean }
  const security = container.securityContext ?? {}
  const flags: string[] = []
  if (pod.runAsUser === undefined || pod.runAsNonRoot !== true) throw new Error(`${name} does not run as a fixed non-root user`)
  flags.push(`--user=${pod.runAsUser}:${pod.runAsGroup ?? pod.runAsUser}`)
  if (security.readOnlyRootFilesystem === true) flags.push('--read-only', '--read-only-tmpfs=false')
  if (security.allowPrivilegeEscalation === false) flags.push('--security-opt=no-new-privileges')
  for (const capability of security.capabilities?.drop ?? []) flags.push(`--cap-drop=${capability}`)
  for (const capability of security.capabilities?.add ?? []) flags.push(`--cap-add=${capability}`)
  // seccomp RuntimeDefault is podman's default profile.
  const memory = container.resources?.limits?.memory
  if (memory !== undefined) flags.push(`--memory=${memory.replace(/Mi$/, 'm').replace(/Gi$/, 'g')}`)
  // An emptyDir the chart mounts at /tmp.
  if (container.volumeMounts?.some((mount) => mount.mountPath === '/tmp')) flags.push('--tmpfs=/tmp:rw,size=64m,mode=1777')
  return flags
}

export interface ContainerStackOptions {
  kafkaBrokers: string
  /** mongodb://host:port/{db}… — the chart's mongodb.external.url. */
  mongodbUrl: string
  smtpUrl: string
  smsWebhookUrl: string
  admin: { email: string; password: string }
}

export async function startContainerStack(t: Teardown, options: ContainerStackOptions): Promise<ContainerStack> {
  const id = randomUUID().slice(0, 8)
  const label = `polyshop.test=${id}`
  // The images npm run images built: localhost/polyshop/<service>:dev unless configured otherwise.
  const built = imageReference('gateway')
  const { objects } = render(undefined, [
    '--set',
    `image.repository=${built.slice(0, built.lastIndexOf('/'))}`,
    '--set',
    `image.tag=${built.slice(built.lastIndexOf(':') + 1)}`,
    '--set',
    'image.pullPolicy=Never',
    '--set',
    'kafka.enabled=false',
    '--set',
    `kafka.external.brokers=${options.kafkaBrokers}`,
    '--set',
    'mongodb.enabled=false',
    '--set',
    `mongodb.external.url=${options.mongodbUrl}`,
    '--set',
    `notification.smtpUrl=${options.smtpUrl}`,
    '--set',
    `notification.smsWebhookUrl=${options.smsWebhookUrl}`,
    '--set',
    'demoCatalog=true',
    '--set',
    `admin.email=${options.admin.email}`,
    '--set',
    `admin.password=${options.admin.password}`,
    '--set',
    'logLevel=warn'
  ])
  const deployments = workloads(objects).filter((w) => w.object.kind === 'Deployment')
  const serviceObjects = objects.filter((o) => o.kind === 'Service')

  // Each service's chart ports → free ports on this machine, and its Service name → 127.0.0.1.
  const renames: Array<[string, string]> = []
  const hosts: string[] = []
  const plan = await Promise.all(
    deployments.map(async (workload) => {
      const name = workload.labels['app.kubernetes.io/component'] as string
      const serviceName = serviceObjects.find((s) => s.metadata.labels?.['app.kubernetes.io/component'] === name)?.metadata.name
      if (serviceName === undefined) throw new Error(`the chart has no Service for ${name}`)
      hosts.push(`--add-host=${serviceName}:127.0.0.1`)
      const ports: Record<string, number> = {}
      for (const port of workload.pod.containers[0]?.ports ?? []) {
        const free = await freePort()
        ports[port.name ?? String(port.containerPort)] = free
        renames.push([`//${serviceName}:${port.containerPort}`, `//${serviceName}:${free}`])
      }
      return { name, workload, ports, env: podEnvironment(workload, objects) }
    })
  )

  const services: Record<string, ContainerService> = {}
  // Whatever happens, nothing of this stack is left running: at the test's end, and if the test
  // process ends some other way (a failed start is an uncaught error at the top of the file).
  const removeAll = () => removeTestContainers(id)
  t.teardown(removeAll)
  process.once('exit', removeAll)
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      removeAll()
      process.exit(128 + (signal === 'SIGINT' ? 2 : 15))
    })
  }

  await Promise.all(
    plan.map(async ({ name, workload, ports, env }) => {
      const container = `polyshop-${id}-${name}`
      const moved: Record<string, string> = { ...env, PORT: String(ports.http) }
      if (ports.grpc !== undefined) moved.GRPC_PORT = String(ports.grpc)
      if (ports.management !== undefined) moved.MANAGEMENT_PORT = String(ports.management)
      for (const [key, value] of Object.entries(moved)) moved[key] = renames.reduce((text, [from, to]) => text.replaceAll(from, to), value)
      const image = workload.pod.containers[0]?.image as string
      if (image !== imageReference(name)) throw new Error(`the chart rendered ${image} for ${name}, not the built ${imageReference(name)}`)
      const started = Date.now()
      await podman([
        'run',
        '--detach',
        '--pull=never',
        '--network=host',
        `--name=${container}`,
        `--label=${label}`,
        ...hosts,
        ...enforcedByChart(workload.object.metadata.name, workload.pod),
        `--stop-timeout=${(workload.object.spec as { template: { spec: { terminationGracePeriodSeconds?: number } } }).template.spec.terminationGracePeriodSeconds ?? 30}`,
        ...Object.entries(moved).flatMap(([key, value]) => ['--env', `${key}=${value}`]),
        image
      ])
      const url = `http://127.0.0.1:${ports.http}`
      await eventually(
        async () => {
          const state = await podman(['inspect', '--format', '{{.State.Status}}', container])
          if (state === 'exited') throw new Error(`${name} exited; its log:\n${await podman(['logs', container]).catch(() => '')}`)
          // The gateway's /readyz needs every service behind it: its own start is /healthz, as the chart's readiness probe says.
          const path = name === 'gateway' ? '/healthz' : '/readyz'
          return (await fetch(`${url}${path}`, { signal: AbortSignal.timeout(1000) }).catch(() => undefined))?.ok ? true : undefined
        },
        90_000,
        `${name} in its container to be ready`
      ).catch(async (error: unknown) => {
        const log = await podman(['logs', '--tail=40', container]).catch(() => '')
        throw new Error(`${error instanceof Error ? error.message : error}\n${log}`)
      })
      services[name] = {
        name,
        container,
        url,
        ...(ports.grpc === undefined ? {} : { grpcUrl: `http://127.0.0.1:${ports.grpc}` }),
        startToReadyMs: Date.now() - started
      }
    })
  )
  const gateway = services.gateway?.url as string
  await eventually(
    async () => ((await fetch(`${gateway}/readyz`).catch(() => undefined))?.ok ? true : undefined),
    60_000,
    'every service ready behind the gateway'
  )
  return {
    services,
    gateway,
    orderGrpc: services.order?.grpcUrl as string,
    podman,
    stop: async (service) => {
      const container = services[service]?.container as string
      await podman(['stop', container])
      return Number(await podman(['inspect', '--format', '{{.State.ExitCode}}', container]))
    },
    objects,
    runPod: async (pod, extra = {}) => {
      const spec = pod.spec as unknown as PodSpec
      const container = spec.containers[0] as Container
      const env = { ...Object.fromEntries((container.env ?? []).map((entry) => [entry.name, entry.value ?? ''])), ...extra }
      for (const [key, value] of Object.entries(env)) env[key] = renames.reduce((text, [from, to]) => text.replaceAll(from, to), value)
      try {
        const output = await podman([
          'run',
          '--rm',
          '--pull=never',
          '--network=host',
          `--label=${label}`,
          ...hosts,
          ...enforcedByChart(pod.metadata.name, spec),
          ...Object.entries(env).flatMap(([key, value]) => ['--env', `${key}=${value}`]),
          container.image,
          ...(container.command ?? []),
          ...(container.args ?? [])
        ])
        return { code: 0, output }
      } catch (error) {
        const failure = error as { code?: number; stdout?: string; stderr?: string }
        return { code: typeof failure.code === 'number' ? failure.code : 1, output: `${failure.stdout ?? ''}${failure.stderr ?? ''}` }
      }
    }
  }
}
