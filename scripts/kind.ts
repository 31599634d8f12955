// `npm run kind:create` / `npm run kind:delete`: the local cluster for `skaffold dev`.
// Creates the kind cluster of kind-config.yaml (kind and helm are built from the Go module proxy
// into ~/.cache/polyshop) and installs Traefik as its ingress controller on the node's ports
// 80/443. Needs Docker (or Podman), which kind runs the node in.
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { ensureGoTool, repoRoot } from '@polyshop/devstack'

const CLUSTER = 'polyshop'
/** Traefik's Helm chart (a maintained ingress controller that works on kind); pinned. */
const TRAEFIK_CHART = { ref: 'oci://ghcr.io/traefik/helm/traefik', version: '41.0.0' }

function run(command: string, args: string[]): void {
  console.log(`$ ${[command, ...args].join(' ')}`)
  const result = spawnSync(command, args, { stdio: 'inherit', cwd: repoRoot })
  if (result.status !== 0) {
    console.error(`${command} failed (${result.error?.message ?? `exit ${result.status}`})`)
    process.exit(1)
  }
}

const action = process.argv[2]
const kind = ensureGoTool('kind')
if (action === 'create') {
  const helm = ensureGoTool('helm')
  run(kind, ['create', 'cluster', '--name', CLUSTER, '--config', join(repoRoot, 'kind-config.yaml')])
  run(helm, [
    'upgrade',
    '--install',
    'traefik',
    TRAEFIK_CHART.ref,
    '--version',
    TRAEFIK_CHART.version,
    '--namespace',
    'traefik',
    '--create-namespace',
    '--kube-context',
    `kind-${CLUSTER}`,
    '--wait',
    // On the node whose ports 80/443 kind maps to the host.
    '--set',
    'ports.web.hostPort=80',
    '--set',
    'ports.websecure.hostPort=443',
    '--set',
    'service.type=ClusterIP',
    '--set',
    'nodeSelector.ingress-ready=true',
    '--set',
    'tolerations[0].key=node-role.kubernetes.io/control-plane',
    '--set',
    'tolerations[0].operator=Exists',
    '--set',
    'tolerations[0].effect=NoSchedule',
    '--set',
    'ingressClass.isDefaultClass=true'
  ])
  console.log(`\nkind cluster "${CLUSTER}" is ready (context kind-${CLUSTER}); next: skaffold dev`)
} else if (action === 'delete') {
  run(kind, ['delete', 'cluster', '--name', CLUSTER])
} else {
  console.error('usage: tsx scripts/kind.ts create|delete')
  process.exit(2)
}
