// Renders the chart with the real helm (built from the Go module proxy into the cache) and
// parses what it prints, for the deploy tests.
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { ensureGoTool, repoRoot } from '@polyshop/devstack'
import YAML from 'yaml'

export const CHART = join(repoRoot, 'charts', 'polyshop')
/** The newest Kubernetes whose schemas kubectl-validate embeds; kind's node runs 1.37. */
export const KUBE_VERSION = '1.35.0'

/** The scenarios: the chart's defaults and every ci/*-values.yaml. */
export const SCENARIOS: Array<{ name: string; valuesFile?: string }> = [
  { name: 'defaults' },
  ...readdirSync(join(CHART, 'ci'))
    .filter((file) => file.endsWith('-values.yaml'))
    .map((file) => ({ name: file.replace('-values.yaml', ''), valuesFile: join(CHART, 'ci', file) }))
]

export interface K8sObject {
  apiVersion: string
  kind: string
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> }
  spec?: Record<string, unknown>
  data?: Record<string, string>
  stringData?: Record<string, string>
}

export function helm(args: string[]): string {
  return execFileSync(ensureGoTool('helm'), args, { cwd: CHART, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

export function render(valuesFile?: string, extra: string[] = []): { yaml: string; objects: K8sObject[] } {
  const yaml = helm([
    'template',
    'polyshop',
    CHART,
    '--namespace',
    'polyshop',
    '--kube-version',
    KUBE_VERSION,
    ...(valuesFile === undefined ? [] : ['-f', valuesFile]),
    ...extra
  ])
  const objects = YAML.parseAllDocuments(yaml)
    .map((document) => document.toJS() as K8sObject | null)
    .filter((object): object is K8sObject => object !== null)
  return { yaml, objects }
}

/**
 * skaffold's JSON Schema, which no package registry serves: SKAFFOLD_SCHEMA_DIR, or the copy in
 * ../shared beside the project where this workplace keeps one. The only test data read from
 * outside the repository; the check says it is skipped when neither is there.
 */
export function skaffoldSchemaDir(): string | undefined {
  const candidates = [process.env.SKAFFOLD_SCHEMA_DIR, join(repoRoot, '..', 'shared', 'k8s-schemas', 'skaffold')]
  return candidates.find((dir): dir is string => dir !== undefined && dir !== '' && existsSync(dir))
}
