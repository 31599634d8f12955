// The system under test: the chaos profile's own Kafka and MongoDB-wire server (stopped and
// started on purpose, so never another profile's), the six services as their own processes,
// restarted when they die as a Deployment would restart them, and the SMTP server and SMS
// webhook of the test.
import { generateKeyPairSync } from 'node:crypto'
import { appendFileSync, mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { type StackProfile, startKafka, startMongo, startStack, stopKafka, stopMongo, stopStack } from '@polyshop/devstack'
import { type SmtpFault, startWholeStack, type WholeStack } from '@polyshop/testkit'

export const SERVICES = ['user', 'product', 'order', 'recommendation', 'notification', 'gateway'] as const
export type ServiceName = (typeof SERVICES)[number]

interface Teardown {
  teardown(fn: () => unknown): void
}

/** A service that died without being told to: when, how, and how long it took to come back. */
export interface Crash {
  service: ServiceName
  at: number
  exit: string
  restartedAfterMs?: number
}

export interface System {
  stack: WholeStack
  /** Where each service's output is kept (<service>.log). */
  logDir: string
  kafkaBrokers: string
  /** What the services printed since they started (warnings and errors), per service. */
  output: (service: ServiceName) => string
  /** `kill -9`, then started again after `downMs`, as a Deployment's pod would be. */
  kill: (service: ServiceName, downMs: number) => Promise<void>
  stopKafka: () => Promise<void>
  startKafka: () => Promise<void>
  stopMongo: () => Promise<void>
  startMongo: () => Promise<void>
  setSmtpFault: (fault: SmtpFault) => void
  crashes: Crash[]
  /** Stops the supervision (the teardown ends the processes). */
  close: () => Promise<void>
}

/**
 * The settings a production deployment would have, where the defaults suit a laptop: a
 * configured signing key (a restarted user service keeps every session valid), limits sized for
 * one client address driving many shoppers, unpaid orders expiring within the run, and
 * interrupted orders recovered within it.
 */
function serviceEnvironment(): Record<string, Record<string, string>> {
  const signingKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
  return {
    user: { JWT_PRIVATE_KEY: signingKey },
    gateway: {
      RATE_LIMIT_PER_MINUTE: '1000000',
      ORDER_RATE_LIMIT_PER_MINUTE: '1000000',
      AUTH_RATE_LIMIT_PER_MINUTE: '1000000'
    },
    order: {
      MAX_UNPAID_ORDERS: '1000',
      MAX_HELD_UNITS: '100000',
      UNPAID_ORDER_TTL_SECONDS: '60',
      RECOVERY_INTERVAL_SECONDS: '5',
      INTERRUPTED_ORDER_GRACE_SECONDS: '15'
    },
    // The defaults: an outage must not use up the tries of a good message.
    notification: { MAX_ATTEMPTS: '5' },
    recommendation: { MAX_ATTEMPTS: '5' }
  }
}

export async function startSystem(t: Teardown, profile: StackProfile, log: (line: string) => void): Promise<System> {
  // Every run starts from empty servers.
  await stopStack(profile)
  rmSync(profile.dir, { recursive: true, force: true })
  // Its own servers even when the caller has others (npm test's): these are stopped on purpose.
  delete process.env.KAFKA_BROKERS
  delete process.env.MONGODB_URL
  const servers = await startStack(profile, (line) => log(`  ${line}`))
  t.teardown(() => stopStack(profile))
  process.env.KAFKA_BROKERS = servers.kafkaBrokers
  process.env.MONGODB_URL = servers.mongodbUrl
  const kafkaDir = join(profile.dir, 'kafka')
  const mongoDir = join(profile.dir, 'mongo')

  const stack = await startWholeStack(t, { env: serviceEnvironment() })
  const crashes: Crash[] = []
  const killed = new Set<ServiceName>()
  let closed = false
  const outputs: Record<string, string> = {}
  // Every process's output, kept whole in the profile's directory for whoever reads a failed run.
  const logDir = join(profile.dir, 'services')
  mkdirSync(logDir, { recursive: true })
  const keepOutput = (service: ServiceName) => {
    const child = stack.processes[service]?.child
    appendFileSync(join(logDir, `${service}.log`), `--- ${new Date().toISOString()} started (pid ${child?.pid})\n`)
    const append = (chunk: Buffer) => {
      outputs[service] = `${outputs[service] ?? ''}${chunk}`.slice(-200_000)
      appendFileSync(join(logDir, `${service}.log`), chunk)
    }
    child?.stdout?.on('data', append)
    child?.stderr?.on('data', append)
  }

  /** Starts a service again until it stays up (it may exit while Kafka or MongoDB is away). */
  const revive = async (service: ServiceName): Promise<void> => {
    for (let attempt = 1; !closed; attempt++) {
      const restart = await stack.stop(service, 'SIGKILL')
      try {
        await restart()
        keepOutput(service)
        return
      } catch (error) {
        log(`  ${service} did not come back (attempt ${attempt}): ${(error as Error).message.split('\n')[0]}`)
        await sleep(Math.min(10_000, 1000 * attempt))
      }
    }
  }

  /** Like a Deployment: a process that exits unasked is started again, after a second. */
  const supervise = async (service: ServiceName): Promise<void> => {
    while (!closed) {
      const running = stack.processes[service]
      if (running === undefined) return
      const code = await running.exited
      if (closed) return
      if (stack.processes[service] !== running) continue
      if (killed.has(service)) {
        // The fault injector restarts it.
        await sleep(100)
        continue
      }
      const crash: Crash = { service, at: Date.now(), exit: code === null ? String(running.child.signalCode) : `code ${code}` }
      crashes.push(crash)
      log(`  ${service} exited by itself (${crash.exit}); restarting it`)
      await sleep(1000)
      await revive(service)
      crash.restartedAfterMs = Date.now() - crash.at
    }
  }
  for (const service of SERVICES) {
    keepOutput(service)
    void supervise(service)
  }

  return {
    stack,
    logDir,
    kafkaBrokers: servers.kafkaBrokers,
    output: (service) => outputs[service] ?? '',
    kill: async (service, downMs) => {
      killed.add(service)
      try {
        await stack.stop(service, 'SIGKILL')
        await sleep(downMs)
        await revive(service)
      } finally {
        killed.delete(service)
      }
    },
    stopKafka: async () => {
      await stopKafka(kafkaDir)
    },
    startKafka: async () => {
      await startKafka({ dir: kafkaDir, port: profile.kafkaPort, controllerPort: profile.kafkaControllerPort })
    },
    stopMongo: async () => {
      await stopMongo(mongoDir)
    },
    startMongo: async () => {
      await startMongo({ dir: mongoDir, port: profile.mongoPort })
    },
    setSmtpFault: stack.setSmtpFault,
    crashes,
    close: async () => {
      closed = true
    }
  }
}
