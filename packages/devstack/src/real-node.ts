// A one-node Kubernetes cluster of real parts for the real-node test, built from the Go module
// proxy and Debian's packages only: the control plane of kubernetes.ts (started by kwokctl, its
// fake-node controller left out), containerd with runc and the CNI plugins, kubelet and
// kube-proxy, CoreDNS as a Deployment, kube-router's NetworkPolicy controller, and a pause image
// compiled from the pause.c that k8s.io/kubernetes ships. polyshop's images are copied from
// podman's storage into containerd's, so nothing is pulled from a registry.
//
// What these machines need (each verified here): the kubelet accepts cgroup v1 only with
// failCgroupV1: false; containerd must not give the pause container a negative oom_score_adj
// (restrict_oom_score_adj, no CAP_SYS_RESOURCE); the node's address is the machine's own, never
// loopback, because pods reach the API server, Kafka and the MongoDB-wire server there.
//
// NetworkPolicies: kind's agent, kube-network-policies, hands packets to user space with the
// nftables `queue` expression, and these kernels are built without it (CONFIG_NFT_QUEUE unset:
// `nft add rule inet t c queue num 98` fails with "No such file or directory", and the agent's
// every rule sync with "netlink receive: no such file or directory", so nothing is enforced).
// kube-router's controller (the one k3s embeds) enforces them with iptables and ipset instead,
// which these kernels have; it runs on the node as a process, its router and service proxy off.
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { containerEnv, ensureContainerTools, imageExists } from './containers.js'
import { ensureGoProgram, goModuleDir } from './go-tools.js'
import { ensureControlPlane, ensureNodeBinaries, KUBERNETES_VERSION, kwokctlBinaryFlags } from './kubernetes.js'
import { freePort, isAlive, logTail, spawnDaemon, stopDaemon, waitUntil } from './processes.js'
import { MissingToolError, probeTool, runStep } from './tools.js'

export const COREDNS_VERSION = 'v1.14.2'
/** Its firewall only: the advisories against v2.1.0 concern the service proxy, which stays off. */
export const KUBE_ROUTER_VERSION = 'v2.1.0'
/** The pause version k8s.io/kubernetes v1.35 builds (build/pause/Makefile TAG). */
export const PAUSE_VERSION = '3.10.1'

export const NODE_NAME = 'polyshop-node'
const POD_CIDR = '10.244.0.0/24'
const SERVICE_CIDR = '10.96.0.0/16'
const API_SERVICE_IP = '10.96.0.1'
export const CLUSTER_DNS_IP = '10.96.0.10'
/** The node's CNI bridge; a name of polyshop's own so clean-up never touches another's. */
const BRIDGE = 'polyshop0'
/** The node's pods live in this cgroup (in every controller), not in a kubepods another kubelet may own. */
const CGROUP_ROOT = 'polyshop-node'

const addonImages = {
  pause: `localhost/polyshop-node/pause:${PAUSE_VERSION}`,
  coredns: `localhost/polyshop-node/coredns:${COREDNS_VERSION}`
}

export interface RealNodeOptions {
  /** Images in podman's storage to load into the node's containerd (no registry is ever asked). */
  images: string[]
  log?: (line: string) => void
}

export interface RealNode {
  /** The cluster's state, logs and sockets (a fresh directory under the temp dir, removed by stop()). */
  workDir: string
  kubeconfig: string
  kubectl: string
  /** The machine's own address: the node's InternalIP and where pods reach servers on the host. */
  nodeIp: string
  /** kubectl with this cluster's kubeconfig; stdout. */
  kubectlRun: (args: string[], input?: string) => string
  /** Seconds each start-up step took. */
  timings: Record<string, number>
  /** Deletes every workload, stops every process and removes what the node left on the machine. */
  stop: () => Promise<void>
  /** The same without waiting for pods to go (for a process being killed): synchronous. */
  kill: () => void
  /** What is left of the node on this machine (empty when clean-up is complete). */
  leftovers: () => string[]
}

/** The address of the interface the default route leaves by. */
export function machineAddress(): string {
  const routes = readFileSync('/proc/net/route', 'utf8').split('\n').slice(1)
  const device = routes.map((line) => line.split('\t')).find((fields) => fields[1] === '00000000')?.[0]
  const output = device === undefined ? '' : runStep('ip addr', 'ip', ['-4', '-o', 'addr', 'show', 'dev', device])
  const address = /inet (\d+\.\d+\.\d+\.\d+)\//.exec(output)?.[1]
  if (address === undefined) throw new Error('the real-node test needs a machine address: no IPv4 address on the default route')
  return address
}

function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new MissingToolError(
      'The real-node test runs a kubelet, containerd and kube-proxy: it must run as root (it changes cgroups, mounts and firewall rules).'
    )
  }
  if (probeTool('gcc', ['--version']) === undefined || !existsSync('/usr/lib/x86_64-linux-gnu/libc.a')) {
    throw new MissingToolError(
      "The node's pause image is compiled from Kubernetes' pause.c: install gcc and libc6-dev ('apt-get install gcc libc6-dev')."
    )
  }
}

/** An image holding one static binary (and nothing else), committed to podman's storage. */
function singleBinaryImage(reference: string, binary: string, entrypoint: string[], user: string, source: string): void {
  const env = containerEnv()
  const buildah = (args: string[]) => runStep(`buildah ${args[0]}`, 'buildah', args, { env }).trim()
  const container = buildah(['from', '--pull=never', 'scratch'])
  try {
    buildah(['copy', '--chmod', '0755', container, binary, entrypoint[0] as string])
    buildah([
      'config',
      `--entrypoint=${JSON.stringify(entrypoint)}`,
      `--user=${user}`,
      `--label=org.opencontainers.image.source=${source}`,
      container
    ])
    buildah(['commit', '--rm', container, reference])
  } catch (error) {
    spawnSync('buildah', ['rm', container], { env })
    throw error
  }
}

/** The pause and CoreDNS images, built once from source into podman's storage. */
export function ensureAddonImages(log: (line: string) => void = () => {}): typeof addonImages {
  if (!imageExists(addonImages.pause)) {
    log(`building the pause image ${PAUSE_VERSION} from k8s.io/kubernetes ${KUBERNETES_VERSION}'s pause.c`)
    const source = join(goModuleDir('k8s.io/kubernetes', KUBERNETES_VERSION), 'build', 'pause', 'linux', 'pause.c')
    const work = mkdtempSync(join(tmpdir(), 'polyshop-pause-'))
    try {
      // The flags of Kubernetes' own build (build/pause/Makefile).
      runStep('compiling pause.c', 'gcc', [
        '-Os',
        '-Wall',
        '-Werror',
        '-static',
        `-DVERSION=v${PAUSE_VERSION}-polyshop`,
        '-o',
        join(work, 'pause'),
        source
      ])
      runStep('stripping pause', 'strip', [join(work, 'pause')])
      singleBinaryImage(
        addonImages.pause,
        join(work, 'pause'),
        ['/pause'],
        '65535:65535',
        'https://github.com/kubernetes/kubernetes/tree/master/build/pause'
      )
    } finally {
      rmSync(work, { recursive: true, force: true })
    }
  }
  if (!imageExists(addonImages.coredns)) {
    log(`building CoreDNS ${COREDNS_VERSION} from its Go module`)
    const binary = ensureGoProgram('coredns', 'github.com/coredns/coredns', COREDNS_VERSION, { CGO_ENABLED: '0' })
    singleBinaryImage(addonImages.coredns, binary, ['/coredns'], '65532:65532', 'https://github.com/coredns/coredns')
  }
  return addonImages
}

const yaml = (value: unknown) => JSON.stringify(value, null, 2)

function containerdConfig(dir: string, cniConfDir: string): string {
  return `# Written by polyshop's real-node test: a containerd of its own (own root, state and socket).
version = 2
root = "${dir}/root"
state = "${dir}/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]

[grpc]
  address = "${dir}/containerd.sock"

[ttrpc]
  address = "${dir}/containerd.sock.ttrpc"

[plugins."io.containerd.internal.v1.opt"]
  path = "${dir}/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${addonImages.pause}"
  # The pause container would ask for oom_score_adj -998; these machines lack CAP_SYS_RESOURCE
  # and runc then fails every sandbox ("can't get final child's PID from pipe: EOF").
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${cniConfDir}"
`
}

function cniConfig(ipamDir: string): string {
  return yaml({
    cniVersion: '1.0.0',
    name: 'polyshop-node',
    plugins: [
      {
        type: 'bridge',
        bridge: BRIDGE,
        isGateway: true,
        ipMasq: true,
        hairpinMode: true,
        ipam: { type: 'host-local', ranges: [[{ subnet: POD_CIDR }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: ipamDir }
      },
      { type: 'portmap', capabilities: { portMappings: true } }
    ]
  })
}

function kubeletConfig(options: {
  nodeIp: string
  port: number
  healthzPort: number
  caFile: string
  socket: string
  resolvConf: string
  podLogs: string
}): string {
  return yaml({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    address: options.nodeIp,
    port: options.port,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: options.healthzPort,
    // The API server (kubectl logs, exec, port-forward) shows the cluster CA's admin certificate.
    authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: options.caFile } },
    authorization: { mode: 'Webhook' },
    containerRuntimeEndpoint: `unix://${options.socket}`,
    cgroupDriver: 'cgroupfs',
    cgroupRoot: `/${CGROUP_ROOT}`,
    // These machines run cgroup v1 (hybrid); Kubernetes 1.35 refuses it unless told otherwise.
    failCgroupV1: false,
    failSwapOn: false,
    enforceNodeAllocatable: [],
    // The machine's disk and memory are shared with everything else it runs: evict only when truly short.
    evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '1%', 'imagefs.available': '1%', 'nodefs.inodesFree': '1%' },
    // The images were loaded, not pulled: never collect them.
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    protectKernelDefaults: false,
    makeIPTablesUtilChains: false,
    localStorageCapacityIsolation: true,
    resolvConf: options.resolvConf,
    clusterDNS: [CLUSTER_DNS_IP],
    clusterDomain: 'cluster.local',
    podCIDR: POD_CIDR,
    podLogsDir: options.podLogs,
    serializeImagePulls: false,
    rotateCertificates: false,
    shutdownGracePeriod: '0s',
    nodeStatusReportFrequency: '10s'
  })
}

function kubeProxyConfig(kubeconfig: string, healthzPort: number, metricsPort: number): string {
  return yaml({
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    // Its own nftables tables: kube-router saves and restores the iptables filter table whole, which
    // would race kube-proxy's rules there (a stale REJECT of a Service that had no endpoints).
    mode: 'nftables',
    clusterCIDR: POD_CIDR,
    hostnameOverride: NODE_NAME,
    clientConnection: { kubeconfig },
    healthzBindAddress: `127.0.0.1:${healthzPort}`,
    metricsBindAddress: `127.0.0.1:${metricsPort}`,
    // Leave the machine's conntrack settings alone (0: do not set).
    conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' }
  })
}

/** CoreDNS for cluster.local, as a cluster runs it (kube-system, RBAC, probes, the kube-dns Service). */
function addonManifests(): string {
  const objects = [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'coredns', namespace: 'kube-system' } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'polyshop-node:coredns' },
      rules: [
        { apiGroups: [''], resources: ['endpoints', 'services', 'pods', 'namespaces'], verbs: ['list', 'watch'] },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] }
      ]
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'polyshop-node:coredns' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'polyshop-node:coredns' },
      subjects: [{ kind: 'ServiceAccount', name: 'coredns', namespace: 'kube-system' }]
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'coredns', namespace: 'kube-system' },
      data: {
        Corefile: [
          '.:53 {',
          '    errors',
          '    health :8080',
          '    ready :8181',
          '    kubernetes cluster.local in-addr.arpa ip6.arpa {',
          '        pods insecure',
          '        fallthrough in-addr.arpa ip6.arpa',
          '        ttl 30',
          '    }',
          '    forward . /etc/resolv.conf',
          '    cache 30',
          '}',
          ''
        ].join('\n')
      }
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'coredns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } },
      spec: {
        replicas: 1,
        selector: { matchLabels: { 'k8s-app': 'kube-dns' } },
        template: {
          metadata: { labels: { 'k8s-app': 'kube-dns' } },
          spec: {
            serviceAccountName: 'coredns',
            dnsPolicy: 'Default',
            securityContext: {
              runAsNonRoot: true,
              runAsUser: 65532,
              seccompProfile: { type: 'RuntimeDefault' },
              // Port 53 without any capability.
              sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '53' }]
            },
            containers: [
              {
                name: 'coredns',
                image: addonImages.coredns,
                imagePullPolicy: 'Never',
                args: ['-conf', '/etc/coredns/Corefile'],
                ports: [
                  { name: 'dns', containerPort: 53, protocol: 'UDP' },
                  { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' }
                ],
                readinessProbe: { httpGet: { path: '/ready', port: 8181 }, periodSeconds: 2 },
                livenessProbe: { httpGet: { path: '/health', port: 8080 }, periodSeconds: 10 },
                resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '128Mi' } },
                securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
                volumeMounts: [{ name: 'config', mountPath: '/etc/coredns', readOnly: true }]
              }
            ],
            volumes: [{ name: 'config', configMap: { name: 'coredns' } }]
          }
        }
      }
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kube-dns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } },
      spec: {
        clusterIP: CLUSTER_DNS_IP,
        selector: { 'k8s-app': 'kube-dns' },
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP' },
          { name: 'dns-tcp', port: 53, protocol: 'TCP' }
        ]
      }
    }
  ]
  return objects.map((object) => JSON.stringify(object)).join('\n')
}

/** Every node's work directory is <temp>/polyshop-real-node-<random>: what a killed run left is found by it. */
const WORK_PREFIX = join(tmpdir(), 'polyshop-real-node-')

function cgroupControllers(): string[] {
  return readdirSync('/sys/fs/cgroup').filter((name) => {
    const path = join('/sys/fs/cgroup', name)
    try {
      return statSync(path).isDirectory() && !name.includes(',') && existsSync(join(path, 'cgroup.procs'))
    } catch {
      return false
    }
  })
}

/** Removes a cgroup tree bottom-up (its processes must be gone). */
function removeCgroup(path: string): void {
  if (!existsSync(path)) return
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    if (entry.isDirectory()) removeCgroup(join(path, entry.name))
  }
  try {
    rmdirSync(path)
  } catch {
    // still has a process: reported by leftovers()
  }
}

/** Mount points of every node's work directory (pods' volumes, containerd's snapshots and netns). */
function nodeMounts(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4]?.replace(/\\040/g, ' '))
    .filter((point): point is string => point?.startsWith(WORK_PREFIX) === true)
}

/** Processes started for any node (each has its work directory on its command line), this one excepted. */
function nodeProcesses(): Array<{ pid: number; command: string }> {
  const found: Array<{ pid: number; command: string }> = []
  for (const name of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    try {
      const command = readFileSync(`/proc/${name}/cmdline`, 'utf8').replaceAll('\0', ' ')
      if (command.includes(WORK_PREFIX) && Number(name) !== process.pid) found.push({ pid: Number(name), command })
    } catch {
      // gone
    }
  }
  return found
}

/** The chains the kubelet (KUBE-FIREWALL), kube-proxy, kube-router and the CNI plugins add. */
const OWN_CHAIN = /^(KUBE|CNI)-/

function iptablesChains(): string[] {
  const chains: string[] = []
  for (const command of ['iptables-save', 'ip6tables-save']) {
    const out = spawnSync(command, [], { encoding: 'utf8' }).stdout ?? ''
    for (const match of out.matchAll(/^:(\S+)/gm)) if (OWN_CHAIN.test(match[1] as string)) chains.push(`${command}: ${match[1]}`)
  }
  return chains
}

/** kube-proxy's nftables tables ("ip kube-proxy", "ip6 kube-proxy"). */
function nftTables(): string[] {
  const out = spawnSync('nft', ['list', 'tables'], { encoding: 'utf8' }).stdout ?? ''
  return [...out.matchAll(/^table (\S+ kube-proxy)$/gm)].map((m) => m[1] as string)
}

/** kube-router's ipsets (its policies' pod and namespace sets). */
function ipsets(): string[] {
  const out = spawnSync('ipset', ['list', '-n'], { encoding: 'utf8' }).stdout ?? ''
  return out.split('\n').filter((name) => /^(KUBE-|kube-router)/.test(name))
}

/**
 * Removes what a node of this kind leaves on the machine, for this run and any earlier one that was
 * killed: its processes, firewall chains and ipsets, the bridge, mounts and cgroups. Synchronous
 * (it also runs as a process is killed); each step tolerates what is already gone.
 */
function cleanMachine(kubeProxy: string | undefined, kubeProxyConfigFile: string | undefined): void {
  const quiet = (command: string, args: string[]) => spawnSync(command, args, { stdio: 'ignore' })
  for (const { pid } of nodeProcesses()) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // gone already
    }
  }
  if (kubeProxy !== undefined && kubeProxyConfigFile !== undefined) quiet(kubeProxy, ['--cleanup', `--config=${kubeProxyConfigFile}`])
  // iptables-restore reads iptables-save's own quoting back: jumps from the built-in chains
  // deleted, then every chain of ours flushed and removed, one transaction per table.
  for (const [save, restore] of [
    ['iptables-save', 'iptables-restore'],
    ['ip6tables-save', 'ip6tables-restore']
  ] as const) {
    const tables = new Map<string, { jumps: string[]; chains: string[] }>()
    let current: { jumps: string[]; chains: string[] } | undefined
    for (const line of (spawnSync(save, [], { encoding: 'utf8' }).stdout ?? '').split('\n')) {
      if (line.startsWith('*')) {
        current = { jumps: [], chains: [] }
        tables.set(line.slice(1), current)
      } else if (line.startsWith(':') && OWN_CHAIN.test(line.slice(1))) current?.chains.push(line.slice(1).split(' ')[0] as string)
      else if (/^-A (INPUT|OUTPUT|FORWARD|PREROUTING|POSTROUTING) .*-j (KUBE|CNI)-/.test(line))
        current?.jumps.push(line.replace(/^-A/, '-D'))
    }
    const script = [...tables]
      .filter(([, { chains }]) => chains.length > 0)
      .map(([table, { jumps, chains }]) =>
        [`*${table}`, ...jumps, ...chains.map((c) => `-F ${c}`), ...chains.map((c) => `-X ${c}`), 'COMMIT'].join('\n')
      )
      .join('\n')
    if (script !== '') spawnSync(restore, ['--noflush'], { input: `${script}\n`, stdio: ['pipe', 'ignore', 'ignore'] })
  }
  // kube-proxy's nftables tables (its mode here), if kube-proxy --cleanup could not run.
  for (const table of nftTables()) quiet('nft', ['delete', 'table', ...table.split(' ')])
  for (const set of ipsets()) quiet('ipset', ['destroy', set])
  quiet('ip', ['link', 'delete', BRIDGE])
  for (const mount of nodeMounts().reverse()) quiet('umount', ['-l', mount])
  for (const controller of cgroupControllers()) removeCgroup(join('/sys/fs/cgroup', controller, CGROUP_ROOT))
  for (const dir of workDirs()) rmSync(dir, { recursive: true, force: true })
}

/**
 * Removes every real node's processes and what they left on the machine: for a run that was killed
 * before its own clean-up (npm test calls it at the end, pass or fail).
 */
export function removeRealNodes(): void {
  if (process.getuid?.() !== 0 || process.platform !== 'linux') return
  // Only with a trace of a node of ours: the chains and tables removed are named like those of
  // any Kubernetes node, and this machine may be one.
  if (workDirs().length === 0 && nodeProcesses().length === 0) return
  cleanMachine(undefined, undefined)
}

function workDirs(): string[] {
  return readdirSync(tmpdir())
    .map((entry) => join(tmpdir(), entry))
    .filter((dir) => dir.startsWith(WORK_PREFIX))
}

/** What is left of any node on this machine; empty when clean. */
function leftovers(): string[] {
  const left = nodeProcesses().map(({ pid, command }) => `process ${pid}: ${command.slice(0, 160)}`)
  if (existsSync(`/sys/class/net/${BRIDGE}`)) left.push(`the bridge ${BRIDGE}`)
  for (const controller of cgroupControllers()) {
    if (existsSync(join('/sys/fs/cgroup', controller, CGROUP_ROOT))) left.push(`cgroup ${controller}/${CGROUP_ROOT}`)
  }
  for (const mount of nodeMounts()) left.push(`mount ${mount}`)
  left.push(...iptablesChains(), ...nftTables().map((table) => `nftables table ${table}`), ...ipsets().map((set) => `ipset ${set}`))
  for (const entry of readdirSync(tmpdir()))
    if (join(tmpdir(), entry).startsWith(WORK_PREFIX)) left.push(`directory ${join(tmpdir(), entry)}`)
  return left
}

/**
 * Everything a real node needs, installed or built once: Debian's packages, the Kubernetes
 * binaries, kube-router, the pause and CoreDNS images. npm test calls it before the tests run, so
 * a cold build does not count against the test's timeout.
 */
export function ensureRealNodeParts(log: (line: string) => void = () => {}) {
  requireRoot()
  ensureContainerTools(log, ['buildah', 'podman', 'runc', 'containerd', 'ipset', 'nftables'])
  if (!existsSync('/usr/lib/cni/bridge')) {
    throw new MissingToolError(
      "The node's pod network uses the CNI plugins in /usr/lib/cni: 'apt-get install containernetworking-plugins'."
    )
  }
  const nodeIp = machineAddress()
  const control = ensureControlPlane(log)
  const node = ensureNodeBinaries(log)
  const kubeRouter = ensureGoProgram('kube-router', 'github.com/cloudnativelabs/kube-router/v2/cmd/kube-router', KUBE_ROUTER_VERSION, {
    CGO_ENABLED: '0'
  })
  ensureAddonImages(log)
  return { nodeIp, control, node, kubeRouter }
}

/** Starts the cluster: control plane, containerd, kubelet, kube-proxy, CoreDNS and NetworkPolicy enforcement. */
export async function startRealNode(options: RealNodeOptions): Promise<RealNode> {
  const log = options.log ?? (() => {})
  const timings: Record<string, number> = {}
  let mark = Date.now()
  const step = (name: string) => {
    timings[name] = (Date.now() - mark) / 1000
    mark = Date.now()
  }
  const { nodeIp, control, node, kubeRouter } = ensureRealNodeParts(log)
  step('build')

  // Whatever an earlier, killed run left goes first.
  removeRealNodes()
  const work = mkdtempSync(WORK_PREFIX)
  const dirs = {
    kwok: join(work, 'kwok'),
    containerd: join(work, 'containerd'),
    cni: join(work, 'cni', 'net.d'),
    ipam: join(work, 'cni', 'ipam'),
    kubelet: join(work, 'kubelet'),
    podLogs: join(work, 'pod-logs'),
    logs: join(work, 'logs')
  }
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true })
  const [kubeletPort, kubeletHealthz, proxyHealthz, proxyMetrics, routerHealth] = (await Promise.all(
    [0, 1, 2, 3, 4].map(() => freePort())
  )) as [number, number, number, number, number]
  const pidFile = (name: string) => join(dirs.logs, `${name}.pid`)
  const logFile = (name: string) => join(dirs.logs, `${name}.log`)
  const cluster = 'polyshop-node'
  const kubeconfig = join(work, 'kubeconfig.yaml')
  const kwokEnv = {
    ...process.env,
    KWOK_WORKDIR: dirs.kwok,
    KWOK_KUBE_VERSION: KUBERNETES_VERSION,
    PATH: `${dirname(control.kubectl)}:${process.env.PATH}`
  }
  const kubectlRun = (args: string[], input?: string) =>
    execFileSync(control.kubectl, ['--kubeconfig', kubeconfig, ...args], {
      encoding: 'utf8',
      input,
      stdio: ['pipe', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024
    })
  let kubeProxyConfigFile: string | undefined
  let controlPlaneUp = false
  const processes = ['kube-router', 'kube-proxy', 'kubelet', 'containerd']

  let removed = false
  const kill = () => {
    if (removed) return
    spawnSync(control.kwokctl, ['delete', 'cluster', '--name', cluster], { env: kwokEnv, stdio: 'ignore' })
    cleanMachine(node.kubeProxy, kubeProxyConfigFile)
    removed = true
  }
  const stop = async (graceful: boolean) => {
    if (graceful && controlPlaneUp) {
      // Pods go through the kubelet, so the runtime takes down their networks and mounts.
      try {
        const namespaces = (JSON.parse(kubectlRun(['get', 'namespaces', '-o', 'json'])).items as Array<{ metadata: { name: string } }>)
          .map((n) => n.metadata.name)
          .filter((name) => !['default', 'kube-system', 'kube-public', 'kube-node-lease'].includes(name))
        if (namespaces.length > 0) kubectlRun(['delete', 'namespace', '--wait=false', ...namespaces])
        kubectlRun(['delete', 'deployments', '--all', '--namespace', 'kube-system', '--wait=false'])
        kubectlRun(['delete', 'pods', '--all', '--all-namespaces', '--grace-period=10', '--wait=false'])
        const deadline = Date.now() + 90_000
        while (Date.now() < deadline && kubectlRun(['get', 'pods', '--all-namespaces', '-o', 'name']).trim() !== '') await sleep(1000)
      } catch (error) {
        log(`deleting the node's pods: ${(error as Error).message}`)
      }
    }
    for (const name of processes) await stopDaemon(pidFile(name), 15_000)
    kill()
  }

  try {
    // The control plane, with the API server on the machine's address (pods reach it as 10.96.0.1).
    const kwokConfig = join(work, 'kwok.yaml')
    writeFileSync(
      kwokConfig,
      yaml({
        apiVersion: 'config.kwok.x-k8s.io/v1alpha1',
        kind: 'KwokctlConfiguration',
        options: { kubeApiserverCertSANs: [API_SERVICE_IP] }
      })
    )
    const pki = join(dirs.kwok, 'clusters', cluster, 'pki')
    const extra = (component: string, pairs: Record<string, string>) =>
      Object.entries(pairs).flatMap(([key, value]) => ['--extra-args', `${component}=${key}=${value}`])
    runStep(
      'kwokctl create cluster',
      control.kwokctl,
      [
        '--config',
        kwokConfig,
        'create',
        'cluster',
        '--name',
        cluster,
        ...kwokctlBinaryFlags(control),
        '--disable',
        'kwok-controller',
        '--kube-admission',
        '--kubeconfig',
        join(work, 'kwokctl-kubeconfig.yaml'),
        ...extra('kube-apiserver', {
          'advertise-address': nodeIp,
          'service-cluster-ip-range': SERVICE_CIDR,
          'kubelet-client-certificate': join(pki, 'admin.crt'),
          'kubelet-client-key': join(pki, 'admin.key'),
          // The node's name is not in any DNS: the API server reaches the kubelet by its address.
          'kubelet-preferred-address-types': 'InternalIP'
        }),
        ...extra('kube-controller-manager', { 'service-cluster-ip-range': SERVICE_CIDR }),
        '--wait',
        '3m'
      ],
      { env: kwokEnv }
    )
    controlPlaneUp = true
    writeFileSync(
      kubeconfig,
      runStep('kwokctl get kubeconfig', control.kwokctl, ['get', 'kubeconfig', '--name', cluster], { env: kwokEnv })
    )
    step('control plane')

    // containerd, and the images loaded into it.
    writeFileSync(join(dirs.cni, '10-polyshop.conflist'), cniConfig(dirs.ipam))
    const containerdConfigFile = join(dirs.containerd, 'config.toml')
    writeFileSync(containerdConfigFile, containerdConfig(dirs.containerd, dirs.cni))
    const socket = join(dirs.containerd, 'containerd.sock')
    const containerdPid = spawnDaemon({
      name: 'containerd',
      command: 'containerd',
      args: ['--config', containerdConfigFile],
      cwd: work,
      logFile: logFile('containerd'),
      pidFile: pidFile('containerd')
    })
    await waitUntil('containerd', async () => existsSync(socket), { timeoutMs: 30_000, pid: containerdPid, logFile: logFile('containerd') })
    const archive = join(work, 'images.tar')
    runStep(
      'podman save',
      'podman',
      [
        'save',
        '--multi-image-archive',
        '--format',
        'docker-archive',
        '--output',
        archive,
        ...Object.values(addonImages),
        ...options.images
      ],
      { env: containerEnv() }
    )
    runStep('ctr images import', 'ctr', [
      '--address',
      socket,
      '--namespace',
      'k8s.io',
      'images',
      'import',
      '--snapshotter',
      'overlayfs',
      archive
    ])
    rmSync(archive)
    step('containerd and images')

    // The kubelet, its pods in a cgroup of their own.
    const resolvConf = join(work, 'resolv.conf')
    const nameservers = readFileSync('/etc/resolv.conf', 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('nameserver'))
    writeFileSync(resolvConf, `${nameservers.join('\n')}\n`)
    for (const controller of cgroupControllers()) mkdirSync(join('/sys/fs/cgroup', controller, CGROUP_ROOT), { recursive: true })
    const kubeletConfigFile = join(dirs.kubelet, 'config.yaml')
    writeFileSync(
      kubeletConfigFile,
      kubeletConfig({
        nodeIp,
        port: kubeletPort,
        healthzPort: kubeletHealthz,
        caFile: join(pki, 'ca.crt'),
        socket,
        resolvConf,
        podLogs: dirs.podLogs
      })
    )
    const kubeletPid = spawnDaemon({
      name: 'kubelet',
      command: node.kubelet,
      args: [
        `--config=${kubeletConfigFile}`,
        `--kubeconfig=${kubeconfig}`,
        `--hostname-override=${NODE_NAME}`,
        `--node-ip=${nodeIp}`,
        `--root-dir=${dirs.kubelet}`,
        `--cert-dir=${join(dirs.kubelet, 'pki')}`,
        '--v=1'
      ],
      cwd: work,
      logFile: logFile('kubelet'),
      pidFile: pidFile('kubelet')
    })

    // kube-proxy: Services, ClusterIPs and the API server's 10.96.0.1.
    kubeProxyConfigFile = join(work, 'kube-proxy.yaml')
    writeFileSync(kubeProxyConfigFile, kubeProxyConfig(kubeconfig, proxyHealthz, proxyMetrics))
    const proxyPid = spawnDaemon({
      name: 'kube-proxy',
      command: node.kubeProxy,
      args: [`--config=${kubeProxyConfigFile}`, '--v=1'],
      cwd: work,
      logFile: logFile('kube-proxy'),
      pidFile: pidFile('kube-proxy')
    })
    await waitUntil(
      `the node ${NODE_NAME}`,
      async () => {
        if (!isAlive(proxyPid)) throw new Error(`kube-proxy exited${logTail(logFile('kube-proxy'))}`)
        const status = JSON.parse(kubectlRun(['get', 'node', NODE_NAME, '-o', 'json'])) as {
          status: { conditions: Array<{ type: string; status: string }> }
        }
        return status.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True')
      },
      { timeoutMs: 120_000, pid: kubeletPid, logFile: logFile('kubelet') }
    )
    step('kubelet and kube-proxy')

    // NetworkPolicies: kube-router's firewall only (the CNI bridge routes pods, kube-proxy serves Services).
    const routerPid = spawnDaemon({
      name: 'kube-router',
      command: kubeRouter,
      args: [
        `--kubeconfig=${kubeconfig}`,
        `--hostname-override=${NODE_NAME}`,
        '--run-firewall=true',
        '--run-router=false',
        '--run-service-proxy=false',
        '--enable-cni=false',
        `--service-cluster-ip-range=${SERVICE_CIDR}`,
        `--health-port=${routerHealth}`,
        '--v=1'
      ],
      cwd: work,
      logFile: logFile('kube-router'),
      pidFile: pidFile('kube-router')
    })
    await waitUntil(
      'kube-router',
      async () =>
        (await fetch(`http://127.0.0.1:${routerHealth}/healthz`)).status === 200 &&
        iptablesChains().some((c) => c.includes('KUBE-ROUTER-FORWARD')),
      { timeoutMs: 60_000, pid: routerPid, logFile: logFile('kube-router') }
    )
    kubectlRun(['apply', '-f', '-'], addonManifests())
    kubectlRun(['rollout', 'status', '--namespace', 'kube-system', 'deployment/coredns', '--timeout=180s'])
    step('NetworkPolicy enforcement and CoreDNS')
  } catch (error) {
    const logs = ['kubelet', 'containerd', 'kube-proxy', 'kube-router'].map((name) => logTail(logFile(name), 15)).join('\n')
    await stop(controlPlaneUp)
    throw new Error(`${(error as Error).message}\n${logs}`)
  }
  return {
    workDir: work,
    kubeconfig,
    kubectl: control.kubectl,
    nodeIp,
    kubectlRun,
    timings,
    stop: () => stop(true),
    kill,
    leftovers
  }
}
