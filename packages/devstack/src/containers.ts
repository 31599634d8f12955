// Containers without a Docker engine: buildah builds the Dockerfile, podman runs the images, both
// from Debian's packages with runc. These machines have cgroup v1 (hybrid), where crun refuses
// to start, and may not raise resource limits, so containers get explicit limits below this
// process's own instead of podman's defaults (a higher nofile, which runc then fails to set).
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { cacheDir } from './paths.js'
import { MissingToolError, probeTool } from './tools.js'

/** Each program the container path needs and the Debian package that has it. */
const CONTAINER_TOOLS = {
  buildah: 'buildah',
  podman: 'podman',
  runc: 'runc',
  debootstrap: 'debootstrap',
  'podman-compose': 'podman-compose',
  // Container networks: podman's bridge with name resolution between containers (compose).
  netavark: 'netavark',
  'aardvark-dns': 'aardvark-dns',
  // The real-node test's container runtime (with its ctr), its NetworkPolicy controller's ipset
  // and kube-proxy's nft; not needed to build or run images.
  containerd: 'containerd',
  ipset: 'ipset',
  nftables: 'nftables'
} as const

export type ContainerTool = keyof typeof CONTAINER_TOOLS

/** Only the real-node test needs these. */
const NODE_TOOLS: ContainerTool[] = ['containerd', 'ipset', 'nftables']

const TOOL_PATHS: Record<ContainerTool, string[]> = {
  buildah: ['buildah'],
  podman: ['podman'],
  runc: ['runc'],
  debootstrap: ['debootstrap', '/usr/sbin/debootstrap'],
  'podman-compose': ['podman-compose'],
  netavark: ['/usr/lib/podman/netavark'],
  'aardvark-dns': ['/usr/lib/podman/aardvark-dns'],
  containerd: ['containerd'],
  ipset: ['ipset', '/usr/sbin/ipset'],
  nftables: ['nft', '/usr/sbin/nft']
}

function installed(tool: ContainerTool): boolean {
  return TOOL_PATHS[tool].some((path) => probeTool(path, ['--version']) !== undefined)
}

/**
 * Makes sure buildah, podman, runc, debootstrap and podman-compose are installed: from Debian's
 * packages when one is missing and this process may install them (root, or sudo without a
 * password); otherwise says exactly what to install.
 */
export function ensureContainerTools(
  log: (line: string) => void = () => {},
  tools: ContainerTool[] = (Object.keys(CONTAINER_TOOLS) as ContainerTool[]).filter((tool) => !NODE_TOOLS.includes(tool))
): void {
  const missing = tools.filter((tool) => !installed(tool))
  if (missing.length === 0) return
  const packages = missing.map((tool) => CONTAINER_TOOLS[tool])
  const root = process.getuid?.() === 0
  const sudo = !root && probeTool('sudo', ['-n', 'true']) !== undefined
  if ((!root && !sudo) || probeTool('apt-get', ['--version']) === undefined) {
    throw new MissingToolError(
      `Building and running polyshop's images without Docker needs ${missing.join(', ')}: run 'sudo apt-get install ${packages.join(' ')}' (Debian 12 or later).`
    )
  }
  log(`installing ${packages.join(', ')} from Debian (once)`)
  const apt = (args: string[]) =>
    execFileSync(root ? 'apt-get' : 'sudo', root ? args : ['apt-get', ...args], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
    })
  apt(['update', '-qq'])
  apt(['install', '-y', '-qq', '--no-install-recommends', ...packages, 'uidmap', 'iptables', 'containernetworking-plugins'])
  const still = missing.filter((tool) => !installed(tool))
  if (still.length > 0) throw new MissingToolError(`apt-get installed ${packages.join(', ')}, but ${still.join(', ')} still cannot run.`)
}

/**
 * An explicit limit below this process's own hard limit (from /proc/self/limits), as soft:hard.
 * runc sets every limit in the container's spec, and these machines refuse even setting one to
 * the value it already has: only lowering is allowed.
 */
function lowerLimit(name: string, cap: number): string {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith(name))
  const hard = line?.slice(name.length).trim().split(/\s+/)[1]
  if (hard === undefined) throw new Error(`/proc/self/limits has no "${name}" line`)
  const value = hard === 'unlimited' ? cap : Math.min(cap, Math.floor(Number(hard) / 2))
  return `${value}:${value}`
}

/**
 * The environment buildah and podman run with: a containers.conf of polyshop's own (runc, explicit file and
 * process limits, the netavark network stack) layered over the system's.
 */
export function containerEnv(): NodeJS.ProcessEnv {
  const dir = join(cacheDir(), 'containers')
  const conf = join(dir, 'containers.conf')
  const content = [
    '# Written by polyshop (packages/devstack/src/containers.ts) for its image builds and container tests.',
    '[containers]',
    `default_ulimits = ["nofile=${lowerLimit('Max open files', 65536)}", "nproc=${lowerLimit('Max processes', 32768)}"]`,
    '[engine]',
    'runtime = "runc"',
    '[network]',
    'network_backend = "netavark"',
    ''
  ].join('\n')
  // Many podman commands run at once and read this file: it is replaced whole, never rewritten in place.
  if (!existsSync(conf) || readFileSync(conf, 'utf8') !== content) {
    mkdirSync(dir, { recursive: true })
    const partial = `${conf}.${process.pid}`
    writeFileSync(partial, content)
    renameSync(partial, conf)
  }
  return { ...process.env, CONTAINERS_CONF: conf, BUILDAH_ISOLATION: 'oci' }
}

/** Whether podman's storage has this image (nothing is ever pulled to find out). */
export function imageExists(reference: string): boolean {
  try {
    execFileSync('podman', ['image', 'exists', reference], { env: containerEnv(), stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** The compose projects the compose test starts are named polyshop-test-<id>. */
export const COMPOSE_TEST_PROJECT_PREFIX = 'polyshop-test-'

/**
 * Removes the containers a polyshop test started (label polyshop.test, or polyshop.test=<id> for
 * one test's), running or not; without an id also every compose test project's containers,
 * volumes and network. Synchronous, so it also runs from a process's 'exit' handler.
 */
export function removeTestContainers(id?: string): void {
  if (probeTool('podman', ['--version']) === undefined) return
  const env = containerEnv()
  const podman = (args: string[]) => execFileSync('podman', args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  const lines = (text: string) => text.split('\n').filter((line) => line !== '')
  const label = id === undefined ? 'label=polyshop.test' : `label=polyshop.test=${id}`
  const containers = lines(podman(['ps', '--all', '--quiet', '--filter', label]))
  if (id === undefined) {
    for (const line of lines(podman(['ps', '--all', '--format', '{{.ID}} {{index .Labels "io.podman.compose.project"}}']))) {
      const [container, project] = line.split(' ')
      if (container !== undefined && project?.startsWith(COMPOSE_TEST_PROJECT_PREFIX)) containers.push(container)
    }
  }
  if (containers.length > 0) podman(['rm', '--force', '--time=5', ...containers])
  if (id !== undefined) return
  const volumes = lines(podman(['volume', 'ls', '--quiet'])).filter((name) => name.startsWith(COMPOSE_TEST_PROJECT_PREFIX))
  if (volumes.length > 0) podman(['volume', 'rm', '--force', ...volumes])
  const networks = lines(podman(['network', 'ls', '--format', '{{.Name}}'])).filter((name) => name.startsWith(COMPOSE_TEST_PROJECT_PREFIX))
  if (networks.length > 0) podman(['network', 'rm', '--force', ...networks])
}
