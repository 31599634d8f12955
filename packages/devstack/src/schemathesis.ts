import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { cacheDir } from './paths.js'
import { MissingToolError, probeTool, runStep } from './tools.js'

/** The API fuzzer the tests run (PyPI), pinned: a new release may bring new checks. */
export const SCHEMATHESIS_VERSION = '4.32.5'

/**
 * The `schemathesis` command, installed once from PyPI into a virtual environment in the
 * cache (~/.cache/polyshop/schemathesis-<version>): Python 3.10+ and its venv module are needed.
 */
export function ensureSchemathesis(log: (line: string) => void = () => {}): string {
  const home = join(cacheDir(), `schemathesis-${SCHEMATHESIS_VERSION}`)
  const command = join(home, 'bin', 'schemathesis')
  // Written last: an install that was interrupted is started again, not used.
  const complete = join(home, '.polyshop-complete')
  if (existsSync(complete)) return command
  const python = ['python3', 'python'].find((candidate) => probeTool(candidate, ['--version'])?.startsWith('Python 3') === true)
  if (python === undefined) throw new MissingToolError('Python 3.10+ is needed once, to install schemathesis (the API fuzzer) from PyPI.')
  log(`installing schemathesis ${SCHEMATHESIS_VERSION} from PyPI into ${home}`)
  rmSync(home, { recursive: true, force: true })
  mkdirSync(cacheDir(), { recursive: true })
  runStep('creating the schemathesis virtual environment', python, ['-m', 'venv', home])
  runStep('installing schemathesis', join(home, 'bin', 'pip'), [
    'install',
    '--quiet',
    '--disable-pip-version-check',
    `schemathesis==${SCHEMATHESIS_VERSION}`
  ])
  writeFileSync(complete, `${SCHEMATHESIS_VERSION}\n`)
  return command
}
