import type { WholeStack } from '@polyshop/testkit'
import type { LoadOptions } from './load.js'

export interface Settings {
  rounds: number
  /** Saturation: a fixed number of connections, as fast as they go. */
  saturation: { connections: number; duration?: number; amount?: number }
  /** Latency: a fixed offered rate below saturation. */
  latency: { connections: number; rate: number; duration?: number; amount?: number }
  /** Scenario 6: orders per second and how many. */
  events: { rate: number; orders: number }
  /** Scenario 7: seconds per gRPC client run. */
  grpcSeconds: number
  /** The database scenario: collection sizes (the first is the reference) and seconds per measurement. */
  database: { sizes: number[]; seconds: number }
  /** Live order status: open subscriptions, and orders placed (at `rate`/s) while they listen. */
  live: { subscriptions: number; orders: number; rate: number }
}

export const FULL: Settings = {
  rounds: 5,
  saturation: { connections: 50, duration: 5 },
  latency: { connections: 10, rate: 300, duration: 5 },
  events: { rate: 20, orders: 200 },
  grpcSeconds: 5,
  database: { sizes: [100, 10_000, 100_000], seconds: 2 },
  live: { subscriptions: 1000, orders: 50, rate: 10 }
}

export const SMOKE: Settings = {
  rounds: 1,
  saturation: { connections: 10, amount: 200 },
  latency: { connections: 5, rate: 200, amount: 100 },
  events: { rate: 20, orders: 10 },
  grpcSeconds: 1,
  database: { sizes: [100, 2_000], seconds: 0.5 },
  live: { subscriptions: 50, orders: 5, rate: 10 }
}

export interface BenchContext {
  stack: WholeStack
  /** pid of each service process. */
  pids: Record<string, number>
  /** The gateway's inspector (node --inspect), to collect its garbage before memory is weighed. */
  gatewayInspector: string
  settings: Settings
  log: (line: string) => void
  /** A fresh customer's access token (tokens last 15 minutes; scenarios ask for their own). */
  customerToken: () => Promise<string>
  adminToken: () => Promise<string>
}

export function saturation(settings: Settings, load: Omit<LoadOptions, 'connections'>): LoadOptions {
  return {
    ...load,
    connections: settings.saturation.connections,
    duration: settings.saturation.duration,
    amount: settings.saturation.amount
  }
}

export function fixedRate(settings: Settings, load: Omit<LoadOptions, 'connections'>, rate = settings.latency.rate): LoadOptions {
  return {
    ...load,
    connections: settings.latency.connections,
    overallRate: rate,
    duration: settings.latency.duration,
    amount: settings.latency.amount
  }
}

/** One scenario's part of the report. */
export interface ScenarioReport {
  title: string
  /** Ratios with their goal (the number the ratio must reach, `atMost` for added latency). */
  ratios: Array<{ name: string; median: number; min: number; max: number; goal?: number; atMost?: boolean; unit?: string }>
  /** Absolute numbers, printed but not goals. */
  numbers: Record<string, number | string>
  notes?: string[]
}
