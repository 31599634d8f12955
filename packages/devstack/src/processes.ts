import { spawn } from 'node:child_process'
import { closeSync, existsSync, openSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

export interface DaemonSpec {
  name: string
  command: string
  args: string[]
  cwd: string
  logFile: string
  pidFile: string
  env?: NodeJS.ProcessEnv
}

/**
 * Starts a long-running server detached from this process, its output appended to a log
 * file and its pid recorded, so that `stop` and `status` work from another process.
 */
export function spawnDaemon(spec: DaemonSpec): number {
  const out = openSync(spec.logFile, 'a')
  try {
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env },
      detached: true,
      stdio: ['ignore', out, out]
    })
    if (child.pid === undefined) throw new Error(`could not start ${spec.name} (${spec.command})`)
    child.unref()
    // The pid and the log file it writes to: a later stop checks both, so a stale pid file
    // whose pid now belongs to another program never gets that program killed.
    writeFileSync(spec.pidFile, `${child.pid}\n${spec.cwd}\n`)
    return child.pid
  } finally {
    closeSync(out)
  }
}

export function readPid(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined
  const [pidLine = '', cwd] = readFileSync(pidFile, 'utf8').split('\n')
  const pid = Number.parseInt(pidLine, 10)
  if (!Number.isInteger(pid) || pid <= 0) return undefined
  return cwd === undefined || cwd === '' || isOurs(pid, cwd) ? pid : undefined
}

/** On Linux, a pid is ours if its working directory is the one we started it in. */
function isOurs(pid: number, cwd: string): boolean {
  if (!existsSync('/proc/self/cwd')) return true // no /proc (macOS): trust the pid file
  try {
    return readlinkSync(`/proc/${pid}/cwd`) === realpathSync(cwd)
  } catch {
    return false
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** The pid of a running daemon started from this pid file, or undefined. */
export function runningPid(pidFile: string): number | undefined {
  const pid = readPid(pidFile)
  return pid !== undefined && isAlive(pid) ? pid : undefined
}

/** SIGTERM, then SIGKILL if it has not exited within the grace period. */
export async function stopDaemon(pidFile: string, graceMs = 20_000): Promise<boolean> {
  const pid = runningPid(pidFile)
  if (pid === undefined) {
    rmSync(pidFile, { force: true })
    return false
  }
  signal(pid, 'SIGTERM')
  const deadline = Date.now() + graceMs
  while (isAlive(pid) && Date.now() < deadline) await sleep(100)
  if (isAlive(pid)) {
    signal(pid, 'SIGKILL')
    const killDeadline = Date.now() + 5000
    while (isAlive(pid) && Date.now() < killDeadline) await sleep(50)
  }
  rmSync(pidFile, { force: true })
  return true
}

/** Sends a signal, ignoring a process that is already gone. */
function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error
  }
}

/** A TCP port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

export function isPortOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => {
      socket.destroy()
      resolve(false)
    })
  })
}

/**
 * Polls `probe` until it resolves true. Fails early, with the log's tail, if the process
 * died, so a broken start is reported in seconds rather than after the whole timeout.
 */
export async function waitUntil(
  what: string,
  probe: () => Promise<boolean>,
  options: { timeoutMs: number; pid?: number; logFile?: string }
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return
    if (options.pid !== undefined && !isAlive(options.pid)) {
      throw new Error(`${what} exited during start-up${logTail(options.logFile)}`)
    }
    await sleep(200)
  }
  throw new Error(`${what} was not ready within ${options.timeoutMs / 1000}s${logTail(options.logFile)}`)
}

export function logTail(logFile: string | undefined, lines = 25): string {
  if (logFile === undefined || !existsSync(logFile)) return ''
  const tail = readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
  return `; the last lines of ${logFile}:\n${tail}`
}
