import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { MissingToolError, probeTool } from './tools.js'

/** The browser the storefront tests drive: Debian's chromium (playwright-core never downloads one). */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/**
 * Makes sure chromium is installed, from Debian's packages when it is missing and this process
 * may install them (root, or sudo without a password); otherwise says how.
 */
export function ensureChromium(log: (line: string) => void = () => {}): string {
  if (existsSync(CHROMIUM_PATH)) return CHROMIUM_PATH
  if (process.env.CHROMIUM_PATH !== undefined) {
    throw new MissingToolError(`CHROMIUM_PATH is ${CHROMIUM_PATH}, and there is nothing there.`)
  }
  const root = process.getuid?.() === 0
  const sudo = !root && probeTool('sudo', ['-n', 'true']) !== undefined
  if ((!root && !sudo) || probeTool('apt-get', ['--version']) === undefined) {
    throw new MissingToolError(
      "The storefront tests drive Debian's chromium, which is not installed: run 'sudo apt-get install chromium', or set CHROMIUM_PATH to a Chromium or Chrome binary."
    )
  }
  log('installing chromium from Debian (once)')
  const apt = (args: string[]) =>
    execFileSync(root ? 'apt-get' : 'sudo', root ? args : ['apt-get', ...args], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
    })
  apt(['update', '-qq'])
  apt(['install', '-y', '-qq', '--no-install-recommends', 'chromium'])
  if (!existsSync(CHROMIUM_PATH)) throw new MissingToolError(`apt-get installed chromium, but ${CHROMIUM_PATH} is not there.`)
  return CHROMIUM_PATH
}
