import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { cacheDir } from './paths.js'
import { requireGo, runStep } from './tools.js'

/** Programs the chart checks run, built from the Go module proxy (never downloaded as binaries). */
export const GO_TOOLS = {
  helm: { module: 'helm.sh/helm/v3', version: 'v3.22.0', pkg: 'helm.sh/helm/v3/cmd/helm' },
  // Embeds the Kubernetes 1.23-1.35 schemas and validates custom resources against CRD files (CEL included).
  'kubectl-validate': {
    module: 'sigs.k8s.io/kubectl-validate',
    version: 'v0.0.5-0.20260105161640-a97ccfaca20b',
    pkg: 'sigs.k8s.io/kubectl-validate'
  },
  // For `npm run kind:create`; its default node image is Kubernetes 1.37.
  kind: { module: 'sigs.k8s.io/kind', version: 'v0.33.0', pkg: 'sigs.k8s.io/kind' }
} as const

export type GoToolName = keyof typeof GO_TOOLS

/** The path of a Go tool, built once into the cache (`go install` of the pinned version). */
export function ensureGoTool(name: GoToolName): string {
  const tool = GO_TOOLS[name]
  return ensureGoProgram(name, tool.pkg, tool.version)
}

/**
 * `go install <pkg>@<version>` once, into the cache as bin/<name>-<version>; the binary's path.
 * `env` adds to the build's environment (CGO_ENABLED=0 for a binary that goes into an empty image).
 */
export function ensureGoProgram(name: string, pkg: string, version: string, env: NodeJS.ProcessEnv = {}): string {
  const binary = join(cacheDir(), 'bin', `${name}-${version}`)
  if (existsSync(binary)) return binary
  requireGo()
  const work = join(cacheDir(), `go-install-${name}-${process.pid}`)
  rmSync(work, { recursive: true, force: true })
  mkdirSync(work, { recursive: true })
  try {
    runStep(`building ${name} ${version} from the Go module proxy`, 'go', ['install', `${pkg}@${version}`], {
      env: { GOBIN: work, GOFLAGS: '-trimpath', ...env }
    })
    mkdirSync(join(cacheDir(), 'bin'), { recursive: true })
    renameSync(join(work, pkg.split('/').at(-1) as string), binary)
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
  return binary
}

/** The unpacked source of a Go module version (in the Go module cache), for data files it ships such as CRDs. */
export function goModuleDir(module: string, version: string): string {
  requireGo()
  return JSON.parse(runStep(`downloading the ${module} Go module`, 'go', ['mod', 'download', '-json', `${module}@${version}`]))
    .Dir as string
}
