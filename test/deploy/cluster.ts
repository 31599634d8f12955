// What both Kubernetes tests do on their cluster: the Strimzi CRDs, a namespace enforcing Pod
// Security "restricted", and the strict server-side check of the chart's Strimzi objects.
import { readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ensureStrimziCrds } from '@polyshop/devstack'
import YAML from 'yaml'

/** kubectl against the test's cluster: its stdout. */
export type Kubectl = (...args: string[]) => string

/** The Strimzi 1.2 CRDs, generated from Maven Central (the operator is not run: its image cannot be pulled here). */
export function installStrimziCrds(kubectl: Kubectl): void {
  const crds = ensureStrimziCrds()
  for (const file of readdirSync(crds).filter((f) => f.endsWith('.yaml'))) kubectl('apply', '--server-side', '-f', join(crds, file))
  kubectl(
    'wait',
    '--for=condition=Established',
    'crd/kafkas.kafka.strimzi.io',
    'crd/kafkanodepools.kafka.strimzi.io',
    'crd/kafkatopics.kafka.strimzi.io',
    'crd/kafkausers.kafka.strimzi.io',
    '--timeout=60s'
  )
}

export function createRestrictedNamespace(kubectl: Kubectl, name: string): void {
  kubectl('create', 'namespace', name)
  kubectl('label', 'namespace', name, 'pod-security.kubernetes.io/enforce=restricted', 'pod-security.kubernetes.io/enforce-version=latest')
}

/**
 * The Strimzi objects of a chart rendering, applied as a server-side dry run with strict field
 * validation (an unknown field is refused): kubectl's output and the objects.
 */
export function strictStrimziDryRun(kubectl: Kubectl, rendered: string, dir: string): { output: string; objects: Array<{ kind: string }> } {
  const objects = YAML.parseAllDocuments(rendered)
    .map((d) => d.toJS())
    .filter((o) => typeof o?.apiVersion === 'string' && o.apiVersion.startsWith('kafka.strimzi.io/'))
  const file = join(dir, 'strimzi.yaml')
  writeFileSync(file, objects.map((o) => YAML.stringify(o)).join('---\n'))
  const output = kubectl(
    'apply',
    '--server-side',
    '--force-conflicts',
    '--field-manager=helm',
    '--validate=strict',
    '--dry-run=server',
    '-f',
    file
  )
  return { output, objects }
}
