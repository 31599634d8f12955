// Measurements around a load run: CPU time of each process involved (from /proc) and its
// resident memory, sampled, with the load generator in a child process.
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { LoadOptions, LoadResult } from './load.js'

const CLOCK_TICKS_PER_SECOND = 100
const LOAD = fileURLToPath(new URL('./load.ts', import.meta.url))

/** User + system CPU time of a process so far, in ms. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // Fields after the command name (which may contain spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND
}

export function rssMiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return match === null ? 0 : Number(match[1]) / 1024
}

export interface Measured extends LoadResult {
  /** CPU ms per request, per measured process. */
  cpuPerRequest: Record<string, number>
  /** Highest RSS seen during the run, per measured process, MiB. */
  peakRssMiB: Record<string, number>
}

export class ArmFailed extends Error {
  override name = 'ArmFailed'
}

/** Runs the load generator against a target while watching the given processes; fails on any bad answer. */
export async function measure(load: LoadOptions, processes: Record<string, number>): Promise<Measured> {
  const cpuBefore = Object.fromEntries(Object.entries(processes).map(([name, pid]) => [name, cpuMs(pid)]))
  const peak: Record<string, number> = Object.fromEntries(Object.keys(processes).map((name) => [name, 0]))
  const sample = () => {
    for (const [name, pid] of Object.entries(processes)) peak[name] = Math.max(peak[name] ?? 0, rssMiB(pid))
  }
  sample()
  const sampler = setInterval(sample, 200)
  const output = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', LOAD, JSON.stringify(load)], { maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) =>
      error === null ? resolve(stdout) : reject(new Error(`load generator failed: ${error.message}\n${stderr}`))
    )
  }).finally(() => clearInterval(sampler))
  sample()
  const result = JSON.parse(output.trim().split('\n').at(-1) ?? '{}') as LoadResult
  const bad = result.errors + result.timeouts + result.non2xx + result.mismatches
  if (bad > 0 || result.requests === 0) {
    throw new ArmFailed(
      `${load.method ?? 'GET'} ${load.url}: ${result.requests} requests, ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts, ${result.mismatches} wrong bodies`
    )
  }
  const cpuPerRequest = Object.fromEntries(
    Object.entries(processes).map(([name, pid]) => [name, (cpuMs(pid) - (cpuBefore[name] ?? 0)) / result.requests])
  )
  return { ...result, cpuPerRequest, peakRssMiB: peak }
}
