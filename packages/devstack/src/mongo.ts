import { cpSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { MongoClient } from 'mongodb'
import { cacheDir } from './paths.js'
import { isPortOpen, runningPid, spawnDaemon, stopDaemon, waitUntil } from './processes.js'
import { probeTool, requireGo, runStep } from './tools.js'

/** FerretDB v1.24 with its embedded SQLite backend needs no other database server. */
export const FERRETDB_MODULE = 'github.com/FerretDB/FerretDB'
export const FERRETDB_VERSION = 'v1.24.2'

export interface MongoOptions {
  dir: string
  port: number
  /** The address it listens on; 127.0.0.1 unless pods must reach it (the real-node test). */
  host?: string
}

export type MongoServerKind = 'mongod' | 'ferretdb'

/**
 * Builds FerretDB once into the cache from its Go module. The module archive leaves out
 * the build/version/version.txt that `git describe` writes in FerretDB's own repository,
 * and the binary refuses to start without it, so we build from a copy that has it.
 */
export function ensureFerretDB(): string {
  const binary = join(cacheDir(), 'bin', `ferretdb-${FERRETDB_VERSION}`)
  if (existsSync(binary)) return binary
  requireGo()
  const moduleDir = JSON.parse(
    runStep(`downloading the ${FERRETDB_MODULE} Go module`, 'go', ['mod', 'download', '-json', `${FERRETDB_MODULE}@${FERRETDB_VERSION}`])
  ).Dir as string
  const work = join(cacheDir(), `ferretdb-build-${process.pid}`)
  rmSync(work, { recursive: true, force: true })
  cpSync(moduleDir, work, { recursive: true })
  // The Go module cache is read-only; the copy must be writable to add version.txt and to delete it.
  runStep('making the FerretDB sources writable', 'chmod', ['-R', 'u+w', work])
  writeFileSync(join(work, 'build', 'version', 'version.txt'), `${FERRETDB_VERSION}\n`)
  mkdirSync(join(cacheDir(), 'bin'), { recursive: true })
  const partial = `${binary}.partial-${process.pid}`
  runStep(`building FerretDB ${FERRETDB_VERSION}`, 'go', ['build', '-trimpath', '-buildvcs=false', '-o', partial, './cmd/ferretdb'], {
    cwd: work
  })
  renameSync(partial, binary)
  rmSync(work, { recursive: true, force: true })
  return binary
}

/** A real mongod on PATH wins over FerretDB: it is what production runs. */
export function mongoServerKind(): MongoServerKind {
  return probeTool('mongod', ['--version']) === undefined ? 'ferretdb' : 'mongod'
}

function files(dir: string) {
  return { data: join(dir, 'data'), log: join(dir, 'mongo.log'), pid: join(dir, 'mongo.pid') }
}

export function mongoPid(dir: string): number | undefined {
  return runningPid(files(dir).pid)
}

/** `reused`: it was already running (started by someone else, who will stop it). */
export async function startMongo(options: MongoOptions): Promise<{ url: string; pid: number; kind: MongoServerKind; reused: boolean }> {
  const host = options.host ?? '127.0.0.1'
  const url = `mongodb://${host}:${options.port}/`
  const f = files(options.dir)
  const kind = mongoServerKind()
  const running = mongoPid(options.dir)
  if (running !== undefined) {
    await waitForMongo(url, { timeoutMs: 30_000, pid: running, logFile: f.log })
    return { url, pid: running, kind, reused: true }
  }
  if (await isPortOpen(options.port, host)) {
    throw new Error(
      `port ${options.port} is already in use by another program; choose another port (DEVSTACK_MONGO_PORT), stop it, or set MONGODB_URL to use it`
    )
  }
  mkdirSync(f.data, { recursive: true })
  const pid =
    kind === 'mongod'
      ? spawnDaemon({
          name: 'mongod',
          command: 'mongod',
          args: ['--dbpath', f.data, '--port', String(options.port), '--bind_ip', host],
          cwd: options.dir,
          logFile: f.log,
          pidFile: f.pid
        })
      : spawnDaemon({
          name: 'ferretdb',
          command: ensureFerretDB(),
          args: [
            '--handler=sqlite',
            `--sqlite-url=file:${f.data}/`,
            `--listen-addr=${host}:${options.port}`,
            `--state-dir=${options.dir}`,
            '--debug-addr=-',
            '--telemetry=disable',
            '--log-level=warn'
          ],
          cwd: options.dir,
          logFile: f.log,
          pidFile: f.pid
        })
  try {
    await waitForMongo(url, { timeoutMs: 60_000, pid, logFile: f.log })
  } catch (error) {
    await stopMongo(options.dir) // never leave a server behind that failed to become ready
    throw error
  }
  return { url, pid, kind, reused: false }
}

export async function stopMongo(dir: string): Promise<boolean> {
  return await stopDaemon(files(dir).pid, 15_000)
}

export async function waitForMongo(url: string, options: { timeoutMs: number; pid?: number; logFile?: string }): Promise<void> {
  await waitUntil(
    `MongoDB-wire server at ${url}`,
    async () => {
      const client = new MongoClient(url, { serverSelectionTimeoutMS: 1000, connectTimeoutMS: 1000 })
      try {
        await client.connect()
        const reply = await client.db('admin').command({ ping: 1 })
        return reply.ok === 1
      } finally {
        await client.close().catch(() => {})
      }
    },
    options
  )
}
