// The faults, on a schedule drawn from the seed: which, in what order, for how long, and the
// pause before each. The injector waits for the moment a fault is meant for (orders in flight
// for the order service, mail going out for the notification service).
import { setTimeout as sleep } from 'node:timers/promises'
import type { Random } from './random.js'
import { SERVICES, type ServiceName, type System } from './system.js'

export type Fault =
  | { kind: 'kill'; service: ServiceName; downMs: number }
  | { kind: 'kafka'; downMs: number }
  | { kind: 'mongodb'; downMs: number }
  | { kind: 'smtp'; mode: 'refuse' | 'stall'; durationMs: number }

export interface PlannedFault {
  fault: Fault
  /** Pause before it, after the previous one has ended. */
  afterMs: number
}

/** A fault as it happened: from its start to the moment the part was back (a service answering, a broker ready). */
export interface InjectedFault {
  kind: Fault['kind']
  target: string
  plannedMs: number
  startedAt: number
  endedAt: number
  note?: string
}

/**
 * The full run: kill -9 of every service (the order service and the notification service twice:
 * once while orders are being placed, once while mail goes out), Kafka down three times for
 * 10–30 s, MongoDB once for 10–20 s, SMTP refusing and then not answering for 20–40 s each.
 * The short run (npm test): one of each kind, briefly.
 */
export function plan(random: Random, short: boolean): PlannedFault[] {
  const faults: Fault[] = short
    ? [
        { kind: 'kill', service: 'order', downMs: 1000 },
        { kind: 'kill', service: 'notification', downMs: 1000 },
        { kind: 'kafka', downMs: 10_000 },
        { kind: 'mongodb', downMs: 8000 },
        { kind: 'smtp', mode: 'refuse', durationMs: 10_000 }
      ]
    : [
        ...SERVICES.map((service): Fault => ({ kind: 'kill', service, downMs: random.between(1000, 5000) })),
        { kind: 'kill', service: 'order', downMs: random.between(1000, 5000) },
        { kind: 'kill', service: 'notification', downMs: random.between(1000, 5000) },
        ...[1, 2, 3].map((): Fault => ({ kind: 'kafka', downMs: random.between(10_000, 30_000) })),
        { kind: 'mongodb', downMs: random.between(10_000, 20_000) },
        { kind: 'smtp', mode: 'refuse', durationMs: random.between(20_000, 40_000) },
        { kind: 'smtp', mode: 'stall', durationMs: random.between(20_000, 40_000) }
      ]
  return random.shuffle(faults).map((fault) => ({ fault, afterMs: short ? random.between(2000, 4000) : random.between(5000, 15_000) }))
}

export function describe(fault: Fault): string {
  switch (fault.kind) {
    case 'kill':
      return `kill -9 ${fault.service}, restarted after ${fault.downMs} ms`
    case 'kafka':
      return `Kafka broker stopped for ${fault.downMs} ms`
    case 'mongodb':
      return `MongoDB-wire server stopped for ${fault.downMs} ms`
    case 'smtp':
      return `SMTP server ${fault.mode === 'refuse' ? 'refusing (421)' : 'not answering'} for ${fault.durationMs} ms`
  }
}

export interface InjectorHooks {
  /** Orders being placed right now. */
  ordersInFlight: () => number
  /** Mail the SMTP server has received so far. */
  mailsReceived: () => number
  log: (line: string) => void
}

/** Waits (up to `limitMs`) until `ready()`: the moment a fault is meant for. */
async function momentWhen(ready: () => boolean, limitMs: number): Promise<string | undefined> {
  const deadline = Date.now() + limitMs
  while (Date.now() < deadline) {
    if (ready()) return undefined
    await sleep(5)
  }
  return 'the moment it was meant for did not come; injected anyway'
}

/** Injects the planned faults one after another; resolves with what happened when the last part is back. */
export async function inject(system: System, planned: PlannedFault[], hooks: InjectorHooks): Promise<InjectedFault[]> {
  const done: InjectedFault[] = []
  for (const { fault, afterMs } of planned) {
    await sleep(afterMs)
    let note: string | undefined
    if (fault.kind === 'kill' && fault.service === 'order') note = await momentWhen(() => hooks.ordersInFlight() > 0, 10_000)
    if (fault.kind === 'kill' && fault.service === 'notification') {
      // Mail going out: the SMTP server received something within the last 50 ms.
      const before = hooks.mailsReceived()
      note = await momentWhen(() => hooks.mailsReceived() > before, 30_000)
    }
    hooks.log(`  fault: ${describe(fault)}`)
    const startedAt = Date.now()
    switch (fault.kind) {
      case 'kill':
        await system.kill(fault.service, fault.downMs)
        break
      case 'kafka':
        await system.stopKafka()
        await sleep(fault.downMs)
        await system.startKafka()
        break
      case 'mongodb':
        await system.stopMongo()
        await sleep(fault.downMs)
        await system.startMongo()
        break
      case 'smtp':
        system.setSmtpFault(fault.mode)
        await sleep(fault.durationMs)
        system.setSmtpFault(undefined)
        break
    }
    const endedAt = Date.now()
    hooks.log(`  fault over after ${((endedAt - startedAt) / 1000).toFixed(1)} s`)
    done.push({
      kind: fault.kind,
      target: fault.kind === 'kill' ? fault.service : fault.kind === 'smtp' ? `smtp (${fault.mode})` : fault.kind,
      plannedMs: fault.kind === 'smtp' ? fault.durationMs : fault.downMs,
      startedAt,
      endedAt,
      ...(note === undefined ? {} : { note })
    })
  }
  return done
}
