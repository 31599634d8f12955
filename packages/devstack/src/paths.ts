import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Downloads and builds, shared by every clone on this machine: never inside the repo. */
export function cacheDir(): string {
  return process.env.POLYSHOP_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'polyshop')
}

/** The repository root (this file lives in packages/devstack/src). */
export const repoRoot = resolve(fileURLToPath(new URL('../../..', import.meta.url)))

/** Where a stack profile keeps its data, logs and pid files (git-ignored). */
export function stateDir(profile: string): string {
  return process.env.POLYSHOP_STATE_DIR ?? join(repoRoot, '.devstack', profile)
}

/**
 * V8 heap settings every service runs with (the image's NODE_OPTIONS; npm start and the tests
 * use the same): a young generation of at most 4 MiB per semi-space and an old space of at most
 * 128 MiB. Without them V8 grows the heap lazily toward a limit sized from the machine's memory
 * (gigabytes), and a service under load holds ~2× the memory it needs (measured in bench/).
 */
export const SERVICE_NODE_OPTIONS = '--max-semi-space-size=4 --max-old-space-size=128'
