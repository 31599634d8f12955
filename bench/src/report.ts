import { cpus, totalmem } from 'node:os'
import type { ScenarioReport } from './context.js'

export interface BenchReport {
  date: string
  smoke: boolean
  machine: { cpus: number; model: string; memoryGiB: number; node: string }
  scenarios: Record<string, ScenarioReport>
  failures: Record<string, string>
}

export function machine(): BenchReport['machine'] {
  return { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version }
}

function met(entry: ScenarioReport['ratios'][number]): string {
  if (entry.goal === undefined) return ''
  const ok = entry.atMost === true ? entry.median <= entry.goal : entry.median >= entry.goal
  return ok ? 'yes' : '**no**'
}

const fmt = (value: number, unit?: string) =>
  `${Number.isInteger(value) ? value : value.toFixed(unit === undefined ? 2 : 1)}${unit === undefined ? '' : ` ${unit}`}`

/** The README table: one row per ratio (median and the min–max of the rounds), then the absolute numbers. */
export function markdown(report: BenchReport): string {
  const lines = [
    `Measured ${report.date} on ${report.machine.cpus} × ${report.machine.model}, ${report.machine.memoryGiB} GiB, Node ${report.machine.node}${report.smoke ? ' (smoke run: numbers are not meaningful)' : ''}.`,
    '',
    '| scenario | measure | median (min–max over rounds) | goal | met |',
    '|---|---|---|---|---|'
  ]
  for (const scenario of Object.values(report.scenarios)) {
    for (const entry of scenario.ratios) {
      const goal = entry.goal === undefined ? '' : `${entry.atMost === true ? '≤' : '≥'} ${fmt(entry.goal, entry.unit)}`
      lines.push(
        `| ${scenario.title} | ${entry.name} | ${fmt(entry.median, entry.unit)} (${fmt(entry.min, entry.unit)}–${fmt(entry.max, entry.unit)}) | ${goal} | ${met(entry)} |`
      )
    }
  }
  lines.push('', '| scenario | absolute numbers (medians) |', '|---|---|')
  for (const scenario of Object.values(report.scenarios)) {
    lines.push(
      `| ${scenario.title} | ${Object.entries(scenario.numbers)
        .map(([k, v]) => `${k}: ${v}`)
        .join('; ')} |`
    )
  }
  for (const [name, failure] of Object.entries(report.failures)) lines.push('', `**${name} failed:** ${failure}`)
  return `${lines.join('\n')}\n`
}
