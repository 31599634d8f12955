// A/B comparison in one run: arms alternate A B A B … over the rounds (so drift on a shared,
// noisy machine hits both alike), and the goal is the median of the per-round ratios.

export interface Ratio {
  median: number
  min: number
  max: number
  perRound: number[]
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? (sorted[middle] ?? Number.NaN) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2
}

export function ratio(perRound: number[]): Ratio {
  return { median: median(perRound), min: Math.min(...perRound), max: Math.max(...perRound), perRound }
}

/** Runs each arm once per round, in alternating order, and returns every arm's results by round. */
export async function alternate<T>(rounds: number, arms: Record<string, () => Promise<T>>): Promise<Record<string, T[]>> {
  const names = Object.keys(arms)
  const results: Record<string, T[]> = Object.fromEntries(names.map((name) => [name, []]))
  for (let round = 0; round < rounds; round++) {
    // A B, then B A: neither arm always runs on a warmer machine.
    const order = round % 2 === 0 ? names : [...names].reverse()
    for (const name of order) results[name]?.push(await (arms[name] as () => Promise<T>)())
  }
  return results
}
