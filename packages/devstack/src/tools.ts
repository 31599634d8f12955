import { execFileSync, spawnSync } from 'node:child_process'

/** Thrown when a program the local stack needs is not installed; says how to get it. */
export class MissingToolError extends Error {
  override name = 'MissingToolError'
}

/** Runs a command, returning its stdout and stderr together, or undefined when it is absent. */
export function probeTool(command: string, args: string[]): string | undefined {
  const result = spawnSync(command, args, { encoding: 'utf8' })
  if (result.error !== undefined) return undefined
  return `${result.stdout}${result.stderr}`
}

export function requireJava(minimumMajor = 17): void {
  const out = probeTool('java', ['-version'])
  if (out === undefined) {
    throw new MissingToolError(
      `Java ${minimumMajor}+ is needed to run Apache Kafka locally, and no 'java' is on PATH. Install a JDK (for example 'apt-get install openjdk-17-jre-headless') or set KAFKA_BROKERS to an existing broker.`
    )
  }
  const match = /version "(\d+)(?:\.(\d+))?/.exec(out)
  let major = match === null ? 0 : Number(match[1])
  if (major === 1 && match?.[2] !== undefined) major = Number(match[2])
  if (major < minimumMajor) {
    throw new MissingToolError(
      `Apache Kafka 4 needs Java ${minimumMajor}+, but 'java -version' reports ${major || 'an unknown version'}. Put a newer JDK first on PATH or set KAFKA_BROKERS.`
    )
  }
}

export function requireMaven(): void {
  if (probeTool('mvn', ['-v']) === undefined) {
    throw new MissingToolError(
      "Maven (mvn) is needed once, to fetch Apache Kafka from Maven Central into the cache. Install it (for example 'apt-get install maven') or set KAFKA_BROKERS to an existing broker."
    )
  }
}

export function requireGo(): void {
  const out = probeTool('go', ['version'])
  if (out === undefined) {
    throw new MissingToolError(
      'Go is needed once, to build FerretDB (the local MongoDB-wire server) into the cache. Install Go 1.21+ (it fetches the 1.24 toolchain FerretDB asks for), set MONGODB_URL to an existing MongoDB, or put mongod on PATH.'
    )
  }
  const minor = Number(/go1\.(\d+)/.exec(out)?.[1] ?? 0)
  if (minor < 21) {
    throw new MissingToolError(
      `'go version' reports ${out.trim()}; building FerretDB needs Go 1.21+ (which fetches the 1.24 toolchain itself).`
    )
  }
}

/** Runs a build step, failing with its output when it fails. */
export function runStep(
  description: string,
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}
): string {
  try {
    return execFileSync(command, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024
    })
  } catch (error) {
    const failure = error as { stdout?: string; stderr?: string; message: string }
    throw new Error(`${description} failed: ${failure.message}\n${failure.stdout ?? ''}${failure.stderr ?? ''}`)
  }
}
