import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'

export interface Helper {
  pid: number
  port: number
  stop: () => Promise<void>
}

const script = (name: string) => fileURLToPath(new URL(name, import.meta.url))

/** A helper server (bench/src/servers/*) in its own process; resolves once it listens. */
export async function startHelper(name: string, args: string[] = []): Promise<Helper> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@polyshop/source', script(`./servers/${name}.ts`), ...args],
    {
      stdio: ['ignore', 'pipe', 'inherit']
    }
  )
  const port = await new Promise<number>((resolve, reject) => {
    let output = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      const match = /listening (\d+)/.exec(output)
      if (match !== null) resolve(Number(match[1]))
    })
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code} before listening`)))
  })
  return {
    pid: child.pid ?? 0,
    port,
    stop: async () => {
      if (child.exitCode !== null) return
      child.kill('SIGTERM')
      await once(child, 'exit')
    }
  }
}

/** Runs a client script (bench/src/<name>.ts) in its own process and parses its last JSON line. */
export function runClient<T>(name: string, args: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--conditions=@polyshop/source', script(`./${name}.ts`), ...args],
      (error, stdout, stderr) => {
        if (error !== null) reject(new Error(`${name} failed: ${error.message}\n${stderr}`))
        else resolve(JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as T)
      }
    )
  })
}
