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
