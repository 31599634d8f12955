import type { Logger } from 'pino'

/** One resource to release on shutdown, in the order given. */
export interface Closer {
  name: string
  close: () => unknown
}

export interface GracefulShutdownOptions {
  logger: Logger
  /**
   * The whole shutdown must finish within this; keep it below the pod's
   * terminationGracePeriodSeconds (less its preStop sleep) so Kubernetes never SIGKILLs
   * in the middle of a drain.
   */
  timeoutMs?: number
  signals?: NodeJS.Signals[]
  /** For tests: what ends the process. */
  exit?: (code: number) => void
}

export interface GracefulShutdown {
  /** True once shutdown began: /readyz should fail so no new traffic is routed here. */
  readonly shuttingDown: boolean
  /** Adds a resource to release, after those added before it (or before all of them with `first`). */
  add(closer: Closer, options?: { first?: boolean }): void
  /** Runs the shutdown as if a signal arrived; resolves with the exit code. */
  shutdown(reason: string): Promise<number>
}

/**
 * SIGTERM/SIGINT → stop accepting work, drain, release resources in order (HTTP server,
 * consumers, outbox relay and producers, MongoDB), then exit 0. A second signal, or the
 * timeout, exits 1 at once. An uncaught error is logged and shuts down the same way, exit 1.
 */
export function gracefulShutdown(options: GracefulShutdownOptions): GracefulShutdown {
  const log = options.logger
  const timeoutMs = options.timeoutMs ?? 25_000
  const exit = options.exit ?? ((code: number) => process.exit(code))
  const closers: Closer[] = []
  let running: Promise<number> | undefined

  async function closeAll(reason: string, failed: boolean): Promise<number> {
    log.info({ reason }, 'shutting down')
    const started = Date.now()
    let code = failed ? 1 : 0
    const timer = setTimeout(() => {
      log.error({ timeoutMs }, 'shutdown timed out; exiting now')
      exit(1)
    }, timeoutMs)
    for (const closer of closers) {
      try {
        await closer.close()
        log.debug({ closer: closer.name }, 'closed')
      } catch (error) {
        code = 1
        log.error({ err: error, closer: closer.name }, 'failed to close')
      }
    }
    clearTimeout(timer)
    log.info({ ms: Date.now() - started, code }, 'shutdown complete')
    return code
  }

  const handle: GracefulShutdown = {
    get shuttingDown() {
      return running !== undefined
    },
    add(closer, addOptions) {
      if (addOptions?.first === true) closers.unshift(closer)
      else closers.push(closer)
    },
    shutdown(reason) {
      running ??= closeAll(reason, reason === 'uncaughtException' || reason === 'unhandledRejection')
      return running
    }
  }

  let firstSignalAt = 0
  for (const signal of options.signals ?? ['SIGTERM', 'SIGINT']) {
    process.on(signal, () => {
      if (running === undefined) {
        firstSignalAt = Date.now()
        void handle.shutdown(signal).then(exit)
        return
      }
      // A terminal's Ctrl-C and a supervisor often deliver the same stop twice within
      // moments; only a signal well after the first one means "stop now".
      if (Date.now() - firstSignalAt < 1000) return
      log.warn({ signal }, 'second signal during shutdown; exiting now')
      exit(1)
    })
  }
  process.on('uncaughtException', (error) => {
    log.fatal({ err: error }, 'uncaught exception')
    void handle.shutdown('uncaughtException').then(exit)
  })
  process.on('unhandledRejection', (error) => {
    log.fatal({ err: error }, 'unhandled rejection')
    void handle.shutdown('unhandledRejection').then(exit)
  })
  return handle
}
