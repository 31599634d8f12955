// polyshop's six service images, built from the repository's own Dockerfile (the one Docker and
// skaffold users build) with buildah: no Docker engine, no registry. The base image is made
// locally when it is missing (node-image.ts); the Dockerfile's dependencies stage is built once and
// shared by all six builds (buildah's layer cache).
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { containerEnv, ensureContainerTools } from './containers.js'
import { ensureNodeBaseImage } from './node-image.js'
import { repoRoot } from './paths.js'

export interface BuiltImage {
  service: string
  reference: string
  /** Bytes of the whole image, base included. */
  size: number
  /** Bytes polyshop adds on top of the Node base image. */
  added: number
  layers: number
  seconds: number
}

/** Where local images go: localhost/polyshop/<service>:dev unless POLYSHOP_IMAGE_REPOSITORY / POLYSHOP_IMAGE_TAG say otherwise. */
export function imageReference(service: string): string {
  const repository = process.env.POLYSHOP_IMAGE_REPOSITORY ?? 'localhost/polyshop'
  return `${repository}/${service}:${process.env.POLYSHOP_IMAGE_TAG ?? 'dev'}`
}

/** The services that have an image: every services/<name> with a start script. */
export function imageServices(): string[] {
  return readdirSync(join(repoRoot, 'services'))
    .filter((name) => {
      const manifest = join(repoRoot, 'services', name, 'package.json')
      return existsSync(manifest) && typeof JSON.parse(readFileSync(manifest, 'utf8')).scripts?.start === 'string'
    })
    .sort()
}

/**
 * The ports each service listens on, from the chart's service map (the wiring the chart deploys):
 * the image's EXPOSE list.
 */
export function servicePorts(): Record<string, number[]> {
  const helpers = readFileSync(join(repoRoot, 'charts/polyshop/templates/_helpers.tpl'), 'utf8')
  const block = /\{\{- define "polyshop\.services" -\}\}\n([\s\S]*?)\{\{- end \}\}/.exec(helpers)?.[1]
  if (block === undefined) throw new Error('charts/polyshop/templates/_helpers.tpl has no polyshop.services map')
  const map = parse(block) as Record<string, { http: number; grpc?: number; management?: number }>
  return Object.fromEntries(
    Object.entries(map).map(([name, wiring]) => [
      name,
      [wiring.http, ...(wiring.grpc === undefined ? [] : [wiring.grpc]), ...(wiring.management === undefined ? [] : [wiring.management])]
    ])
  )
}

function inspect(reference: string, format: string): string {
  return execFileSync('podman', ['image', 'inspect', '--format', format, reference], { env: containerEnv(), encoding: 'utf8' }).trim()
}

/** The CA bundle npm trusts on this machine, passed to the build as a secret (never a layer). */
function npmCaBundle(): string | undefined {
  const candidates = [process.env.NODE_EXTRA_CA_CERTS, '/etc/ssl/certs/ca-certificates.crt']
  return candidates.find((path) => path !== undefined && path !== '' && existsSync(path))
}

function gitRevision(): string {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return 'unknown'
  }
}

function buildOne(service: string, ports: number[], log: (line: string) => void): void {
  const version = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version as string
  const ca = npmCaBundle()
  const args = [
    'build',
    '--pull=never',
    '--layers',
    // npm ci reaches the registry the way this machine does.
    '--network=host',
    '--file',
    join(repoRoot, 'Dockerfile'),
    '--build-arg',
    `SERVICE=${service}`,
    '--build-arg',
    `PORTS=${ports.join(' ')}`,
    '--build-arg',
    `VERSION=${version}`,
    '--build-arg',
    `REVISION=${gitRevision()}`,
    ...(ca === undefined ? [] : ['--secret', `id=npm-ca,src=${ca}`]),
    '--tag',
    imageReference(service),
    repoRoot
  ]
  try {
    execFileSync('buildah', args, { env: containerEnv(), stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 * 1024 * 1024 })
  } catch (error) {
    const failure = error as { stdout?: Buffer; stderr?: Buffer }
    const output = `${failure.stdout?.toString() ?? ''}${failure.stderr?.toString() ?? ''}`.trim().split('\n').slice(-40).join('\n')
    log(`buildah ${args.join(' ')}`)
    throw new Error(`building the ${service} image from the Dockerfile failed; the build's last lines:\n${output}`)
  }
}

/**
 * Builds the images of `services` (default: all six), one after another so the shared stages are
 * built once, and reports each one's size, what it adds to the base, its layers and build time.
 */
export function buildImages(services = imageServices(), log: (line: string) => void = () => {}): BuiltImage[] {
  ensureContainerTools(log, ['buildah', 'podman', 'runc', 'debootstrap'])
  const base = ensureNodeBaseImage(log)
  const baseSize = Number(inspect(base.reference, '{{.Size}}'))
  const ports = servicePorts()
  const unknown = services.filter((service) => ports[service] === undefined)
  if (unknown.length > 0) throw new Error(`no such service: ${unknown.join(', ')} (the services are ${Object.keys(ports).join(', ')})`)
  return services.map((service) => {
    const started = Date.now()
    log(`building ${imageReference(service)}`)
    buildOne(service, ports[service] as number[], log)
    const reference = imageReference(service)
    const size = Number(inspect(reference, '{{.Size}}'))
    return {
      service,
      reference,
      size,
      added: size - baseSize,
      layers: Number(inspect(reference, '{{len .RootFS.Layers}}')),
      seconds: (Date.now() - started) / 1000
    }
  })
}
