// `npm run build`: each service becomes one ES module per entry point under services/<name>/dist,
// with polyshop's own packages compiled in and every npm dependency left as an import, so an
// image needs only the service's production dependencies and the bundle. The gateway's storefront
// is built by Vite into services/gateway/public (served at /). The type checker
// (`npm run typecheck`) is what checks the types; this only transpiles.
import { readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { repoRoot } from '@polyshop/devstack'
import { build, type Plugin } from 'esbuild'
import { build as viteBuild } from 'vite'

/** Entry points beyond src/server.ts. */
const EXTRA_ENTRIES: Record<string, string[]> = { product: ['src/seed/cli.ts'] }

/** polyshop's packages are bundled (from source); everything from npm stays external. */
const externalNpmPackages: Plugin = {
  name: 'external-npm-packages',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@polyshop/') ? undefined : { path: args.path, external: true }))
  }
}

/** The storefront (services/gateway/storefront) into services/gateway/public. */
export async function buildStorefront(): Promise<void> {
  await viteBuild({
    configFile: join(repoRoot, 'services', 'gateway', 'storefront', 'vite.config.ts'),
    logLevel: 'warn'
  })
}

export async function buildServices(names = readdirSync(join(repoRoot, 'services'))): Promise<void> {
  await Promise.all([
    ...(names.includes('gateway') ? [buildStorefront()] : []),
    ...names.map(async (name) => {
      const dir = join(repoRoot, 'services', name)
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { scripts?: Record<string, string> }
      if (manifest.scripts?.start === undefined) return
      rmSync(join(dir, 'dist'), { recursive: true, force: true })
      await build({
        entryPoints: ['src/server.ts', ...(EXTRA_ENTRIES[name] ?? [])].map((entry) => join(dir, entry)),
        outbase: join(dir, 'src'),
        outdir: join(dir, 'dist'),
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node20.19',
        conditions: ['@polyshop/source'],
        sourcemap: true,
        plugins: [externalNpmPackages],
        logLevel: 'warning'
      })
    })
  ])
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const started = Date.now()
  await buildServices(process.argv.slice(2).length > 0 ? process.argv.slice(2) : undefined)
  console.log(`built the services into services/*/dist in ${Date.now() - started} ms`)
}
