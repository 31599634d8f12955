import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { MongoClient } from 'mongodb'
import { cacheDir } from './paths.js'
import { isPortOpen, runningPid, spawnDaemon, stopDaemon, waitUntil } from './processes.js'
import { probeTool, requireGo, runStep } from './tools.js'

/** FerretDB v1.24 with its embedded SQLite backend needs no other database server. */
export const FERRETDB_MODULE = 'github.com/FerretDB/FerretDB'
export const FERRETDB_VERSION = 'v1.24.2'

/** Our Go sources added to FerretDB's build (see FERRETDB_PATCHES). */
const FERRETDB_SOURCES = fileURLToPath(new URL('../ferretdb/', import.meta.url))

export interface MongoOptions {
  dir: string
  port: number
  /** The address it listens on; 127.0.0.1 unless pods must reach it (the real-node test). */
  host?: string
}

export type MongoServerKind = 'mongod' | 'ferretdb'

/**
 * Our changes to FerretDB's sources, applied to the build copy; the suffix names the binary, so
 * a change here builds a new one. Each is a file, the exact text it replaces, and its reason.
 */
export const FERRETDB_PATCHES = {
  suffix: 'polyshop.1',
  edits: [
    {
      // The SQLite backend creates the unique _id index on `_ferretdb_sjson->"_id"` but queries
      // `{_id: …}` as `_ferretdb_sjson->'$._id'`; SQLite uses an expression index only for the
      // identical expression, so every point read, update and delete scanned the whole table
      // (rates fell linearly with the collection). The same expression as the index makes them
      // index lookups.
      file: 'internal/backends/sqlite/metadata/metadata.go',
      from: `IDColumn = DefaultColumn + "->'$._id'"`,
      to: 'IDColumn = DefaultColumn + `->"_id"`'
    },
    {
      // Only a filter that is exactly `{_id: <string>}` was pushed down; `{_id: x, stock: {$gte: n}}`
      // (a conditional update) and `{_id: {$in: [...]}}` (a batch lookup) read every document.
      // idPushdown (ferretdb/polyshop_pushdown.go, added beside) narrows any filter that names
      // _id; FerretDB still applies the whole filter to what comes back.
      file: 'internal/backends/sqlite/collection.go',
      from: [
        '\tif params.Filter.Len() == 1 {',
        '\t\tv, _ := params.Filter.Get("_id")',
        '\t\tswitch v.(type) {',
        '\t\tcase string, types.ObjectID:',
        '\t\t\twhereClause = fmt.Sprintf(` WHERE %s = ?`, metadata.IDColumn)',
        '\t\t\targs = []any{string(must.NotFail(sjson.MarshalSingleValue(v)))}',
        '\t\t}',
        '\t}',
        '',
        '\tq += whereClause'
      ].join('\n'),
      to: '\twhereClause, args = idPushdown(params.Filter)\n\n\tq += whereClause'
    }
  ],
  /** Files of ours added to the build copy: from packages/devstack/ferretdb to the path given. */
  added: [{ source: 'polyshop_pushdown.go', file: 'internal/backends/sqlite/polyshop_pushdown.go' }]
} as const

/**
 * Builds FerretDB once into the cache from its Go module, with FERRETDB_PATCHES applied. The
 * module archive leaves out the build/version/version.txt that `git describe` writes in
 * FerretDB's own repository, and the binary refuses to start without it, so we build from a
 * copy that has it.
 */
export function ensureFerretDB(): string {
  const binary = join(cacheDir(), 'bin', `ferretdb-${FERRETDB_VERSION}-${FERRETDB_PATCHES.suffix}`)
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
  for (const edit of FERRETDB_PATCHES.edits) {
    const file = join(work, edit.file)
    const source = readFileSync(file, 'utf8')
    if (!source.includes(edit.from))
      throw new Error(`FerretDB ${FERRETDB_VERSION}: ${edit.file} no longer holds ${edit.from}; review FERRETDB_PATCHES`)
    writeFileSync(file, source.replace(edit.from, edit.to))
  }
  for (const added of FERRETDB_PATCHES.added) cpSync(join(FERRETDB_SOURCES, added.source), join(work, added.file))
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
