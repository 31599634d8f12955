import { alternate, median, ratio } from '../compare.js'
import type { BenchContext, ScenarioReport } from '../context.js'
import { saturation } from '../context.js'
import { startHelper } from '../helpers.js'
import { measure } from '../measure.js'

/** 1. The reference ceiling: raw node:http against Fastify, both answering the same JSON. */
export async function frameworkCost(context: BenchContext): Promise<ScenarioReport> {
  const raw = await startHelper('hello', ['raw'])
  const fastify = await startHelper('hello', ['fastify'])
  try {
    const body = JSON.stringify({ hello: 'world' })
    const results = await alternate(context.settings.rounds, {
      raw: () => measure(saturation(context.settings, { url: `http://127.0.0.1:${raw.port}/`, expectBody: body }), { server: raw.pid }),
      fastify: () =>
        measure(saturation(context.settings, { url: `http://127.0.0.1:${fastify.port}/`, expectBody: body }), { server: fastify.pid })
    })
    const r = ratio((results.fastify ?? []).map((f, i) => f.throughput / (results.raw?.[i]?.throughput ?? 1)))
    return {
      title: '1. Framework cost: Fastify vs raw node:http (hello JSON)',
      ratios: [{ name: 'Fastify / raw throughput', ...r, goal: 0.9 }],
      numbers: {
        'raw req/s': Math.round(median((results.raw ?? []).map((x) => x.throughput))),
        'Fastify req/s': Math.round(median((results.fastify ?? []).map((x) => x.throughput))),
        'raw CPU ms/req': round(median((results.raw ?? []).map((x) => x.cpuPerRequest.server ?? 0))),
        'Fastify CPU ms/req': round(median((results.fastify ?? []).map((x) => x.cpuPerRequest.server ?? 0)))
      }
    }
  } finally {
    await Promise.all([raw.stop(), fastify.stop()])
  }
}

export function round(value: number, digits = 3): number {
  return Number(value.toFixed(digits))
}
