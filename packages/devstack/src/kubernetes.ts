// A real Kubernetes control plane for the deploy test, built from the Go module proxy (no
// downloads from anywhere else): kube-apiserver, kube-controller-manager and kube-scheduler from
// k8s.io/kubernetes, etcd from go.etcd.io/etcd/server/v3, and kwok/kwokctl for fake nodes.
// Built once into ~/.cache/polyshop/kubernetes-<version>.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { cacheDir } from './paths.js'
import { requireGo, runStep } from './tools.js'

export const KUBERNETES_VERSION = 'v1.35.4'
export const ETCD_VERSION = 'v3.6.16'
export const KWOK_VERSION = 'v0.7.0'

export interface ControlPlaneBinaries {
  kubeApiserver: string
  kubeControllerManager: string
  kubeScheduler: string
  etcd: string
  kwokController: string
  kwokctl: string
  kubectl: string
}

/** kwokctl's flags to run a cluster of these binaries (its binary runtime: nothing downloaded). */
export function kwokctlBinaryFlags(binaries: ControlPlaneBinaries): string[] {
  return [
    '--runtime',
    'binary',
    '--kube-apiserver-binary',
    binaries.kubeApiserver,
    '--kube-controller-manager-binary',
    binaries.kubeControllerManager,
    '--kube-scheduler-binary',
    binaries.kubeScheduler,
    '--etcd-binary',
    binaries.etcd,
    '--kwok-controller-binary',
    binaries.kwokController
  ]
}

function goJson(args: string[], cwd?: string): Record<string, string> {
  return JSON.parse(runStep(`go ${args.join(' ')}`, 'go', args, cwd === undefined ? {} : { cwd }))
}

/**
 * k8s.io/kubernetes maps every k8s.io/* staging module to ./staging with `replace`, which a module
 * that depends on it cannot follow: the wrapper maps each to its published v0.x release instead.
 */
function kubernetesWrapper(dir: string, commands: string[]): void {
  const goMod = readFileSync(goJson(['mod', 'download', '-json', `k8s.io/kubernetes@${KUBERNETES_VERSION}`]).GoMod ?? '', 'utf8')
  const staging = [...goMod.matchAll(/^\s*(k8s\.io\/[a-z0-9-]+) => \.\/staging\/src\/k8s\.io\/[a-z0-9-]+$/gm)].map((m) => m[1] as string)
  const release = KUBERNETES_VERSION.replace(/^v1\./, 'v0.')
  writeFileSync(
    join(dir, 'go.mod'),
    [
      'module polyshop.local/control-plane',
      '',
      `go ${/^go (\S+)$/m.exec(goMod)?.[1] ?? '1.25'}`,
      '',
      `require k8s.io/kubernetes ${KUBERNETES_VERSION}`,
      '',
      ...staging.map((module) => `replace ${module} => ${module} ${release}`),
      ''
    ].join('\n')
  )
  writeFileSync(
    join(dir, 'tools.go'),
    `//go:build tools\n\npackage tools\n\nimport (\n${commands.map((name) => `\t_ "k8s.io/kubernetes/cmd/${name}"\n`).join('')})\n`
  )
}

/**
 * Builds k8s.io/kubernetes commands into `out` with the wrapper module, each reporting the real
 * version (kubectl version, helm's kubeVersion checks, the node's kubeletVersion).
 */
function buildKubernetesCommands(work: string, out: string, commands: string[], log: (line: string) => void): void {
  const env = { CGO_ENABLED: '0', GOFLAGS: '-trimpath -mod=mod' }
  mkdirSync(work, { recursive: true })
  kubernetesWrapper(work, commands)
  log(`resolving k8s.io/kubernetes ${KUBERNETES_VERSION} and its staging modules`)
  runStep('go mod tidy (kubernetes)', 'go', ['mod', 'tidy'], { cwd: work, env })
  const [major, minor] = KUBERNETES_VERSION.slice(1).split('.')
  const ldflags = [
    `-X k8s.io/component-base/version.gitVersion=${KUBERNETES_VERSION}`,
    `-X k8s.io/component-base/version.gitMajor=${major}`,
    `-X k8s.io/component-base/version.gitMinor=${minor}`,
    '-X k8s.io/component-base/version.gitTreeState=clean',
    `-X k8s.io/client-go/pkg/version.gitVersion=${KUBERNETES_VERSION}`,
    '-s -w'
  ].join(' ')
  for (const name of commands) {
    log(`building ${name} ${KUBERNETES_VERSION}`)
    runStep(`building ${name}`, 'go', ['build', '-ldflags', ldflags, '-o', join(out, name), `k8s.io/kubernetes/cmd/${name}`], {
      cwd: work,
      env
    })
  }
}

function etcdWrapper(dir: string): void {
  writeFileSync(join(dir, 'go.mod'), `module polyshop.local/etcd\n\ngo 1.24\n\nrequire go.etcd.io/etcd/server/v3 ${ETCD_VERSION}\n`)
  writeFileSync(
    join(dir, 'main.go'),
    'package main\n\nimport (\n\t"os"\n\n\t"go.etcd.io/etcd/server/v3/etcdmain"\n)\n\nfunc main() { etcdmain.Main(os.Args) }\n'
  )
}

/** Builds (once) and returns the control plane's binaries. */
export function ensureControlPlane(log: (line: string) => void = () => {}): ControlPlaneBinaries {
  const bin = join(cacheDir(), `kubernetes-${KUBERNETES_VERSION}-etcd-${ETCD_VERSION}-kwok-${KWOK_VERSION}`)
  const binaries: ControlPlaneBinaries = {
    kubeApiserver: join(bin, 'kube-apiserver'),
    kubeControllerManager: join(bin, 'kube-controller-manager'),
    kubeScheduler: join(bin, 'kube-scheduler'),
    etcd: join(bin, 'etcd'),
    kwokController: join(bin, 'kwok'),
    kwokctl: join(bin, 'kwokctl'),
    kubectl: join(bin, 'kubectl')
  }
  if (Object.values(binaries).every((path) => existsSync(path))) return binaries
  requireGo()
  const work = join(cacheDir(), `control-plane-build-${process.pid}`)
  const partial = `${bin}.partial-${process.pid}`
  rmSync(work, { recursive: true, force: true })
  mkdirSync(join(work, 'etcd'), { recursive: true })
  mkdirSync(partial, { recursive: true })
  const env = { CGO_ENABLED: '0', GOFLAGS: '-trimpath -mod=mod' }

  // kwokctl asks the API server for its version with kubectl, and the tests inspect with it.
  buildKubernetesCommands(
    join(work, 'kubernetes'),
    partial,
    ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl'],
    log
  )

  etcdWrapper(join(work, 'etcd'))
  log(`building etcd ${ETCD_VERSION}`)
  runStep('go mod tidy (etcd)', 'go', ['mod', 'tidy'], { cwd: join(work, 'etcd'), env })
  runStep('building etcd', 'go', ['build', '-ldflags', '-s -w', '-o', join(partial, 'etcd'), '.'], { cwd: join(work, 'etcd'), env })

  log(`building kwok and kwokctl ${KWOK_VERSION}`)
  runStep('building kwok', 'go', ['install', `sigs.k8s.io/kwok/cmd/kwok@${KWOK_VERSION}`, `sigs.k8s.io/kwok/cmd/kwokctl@${KWOK_VERSION}`], {
    env: { ...env, GOFLAGS: '-trimpath', GOBIN: partial }
  })

  rmSync(bin, { recursive: true, force: true })
  renameSync(partial, bin)
  rmSync(work, { recursive: true, force: true })
  return binaries
}

export interface NodeBinaries {
  kubelet: string
  kubeProxy: string
}

/** Builds (once) and returns the node agents of the real-node test: kubelet and kube-proxy, the control plane's version. */
export function ensureNodeBinaries(log: (line: string) => void = () => {}): NodeBinaries {
  const bin = join(cacheDir(), `kubernetes-node-${KUBERNETES_VERSION}`)
  const binaries: NodeBinaries = { kubelet: join(bin, 'kubelet'), kubeProxy: join(bin, 'kube-proxy') }
  if (Object.values(binaries).every((path) => existsSync(path))) return binaries
  requireGo()
  const work = join(cacheDir(), `node-build-${process.pid}`)
  const partial = `${bin}.partial-${process.pid}`
  rmSync(work, { recursive: true, force: true })
  mkdirSync(partial, { recursive: true })
  try {
    buildKubernetesCommands(work, partial, ['kubelet', 'kube-proxy'], log)
    rmSync(bin, { recursive: true, force: true })
    renameSync(partial, bin)
  } finally {
    rmSync(work, { recursive: true, force: true })
    rmSync(partial, { recursive: true, force: true })
  }
  return binaries
}
