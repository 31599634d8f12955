import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto'

/**
 * Password hashing with scrypt (memory-hard; OWASP's parameters are N=2^17, r=8, p=1).
 * The parameters travel inside the stored hash, so raising the cost later re-hashes
 * passwords as their owners sign in.
 */
export interface ScryptParameters {
  /** log2 of N. */
  cost: number
  blockSize: number
  parallelization: number
}

const KEY_LENGTH = 32
const SALT_LENGTH = 16

function derive(password: string, salt: Buffer, params: ScryptParameters): Promise<Buffer> {
  const N = 2 ** params.cost
  const options: ScryptOptions = {
    N,
    r: params.blockSize,
    p: params.parallelization,
    // scrypt needs 128·N·r bytes; Node's default cap (32 MiB) is below OWASP's cost.
    maxmem: 128 * N * params.blockSize * params.parallelization + 16 * 1024 * 1024
  }
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFKC'), salt, KEY_LENGTH, options, (error, key) => (error === null ? resolve(key) : reject(error)))
  })
}

export async function hashPassword(password: string, params: ScryptParameters): Promise<string> {
  const salt = randomBytes(SALT_LENGTH)
  const key = await derive(password, salt, params)
  return ['scrypt', params.cost, params.blockSize, params.parallelization, salt.toString('base64url'), key.toString('base64url')].join('$')
}

export interface PasswordCheck {
  matches: boolean
  /** The hash was made with other parameters than the current ones. */
  needsRehash: boolean
}

export async function verifyPassword(password: string, stored: string, current: ScryptParameters): Promise<PasswordCheck> {
  const [scheme, cost, blockSize, parallelization, salt, key] = stored.split('$')
  if (scheme !== 'scrypt' || salt === undefined || key === undefined) return { matches: false, needsRehash: true }
  const params = { cost: Number(cost), blockSize: Number(blockSize), parallelization: Number(parallelization) }
  const expected = Buffer.from(key, 'base64url')
  const actual = await derive(password, Buffer.from(salt, 'base64url'), params)
  const matches = actual.length === expected.length && timingSafeEqual(actual, expected)
  const needsRehash =
    params.cost !== current.cost || params.blockSize !== current.blockSize || params.parallelization !== current.parallelization
  return { matches, needsRehash }
}

/** A few passwords everybody tries first; NIST SP 800-63B asks to refuse known-compromised ones. */
const COMMON = new Set([
  '1234567890',
  '0123456789',
  '1111111111',
  'password12',
  'password123',
  'password1234',
  'qwertyuiop',
  'iloveyou12',
  'letmein123',
  'welcome123',
  'administrator',
  'changeme123',
  'qwerty12345',
  'abcdefghij',
  'abc1234567'
])

/** NIST SP 800-63B style: length matters, composition rules do not. Returns the reason it is refused. */
export function passwordPolicyViolation(password: string, email: string): string | undefined {
  const length = [...password].length
  if (length < 10) return 'The password needs at least 10 characters.'
  if (length > 128) return 'The password can have at most 128 characters.'
  const lower = password.toLowerCase()
  if (COMMON.has(lower)) return 'That password is too common.'
  if (lower === email.toLowerCase() || lower === email.toLowerCase().split('@')[0]) return 'The password must not be the email address.'
  if (new Set(password).size < 4) return 'The password needs more than three different characters.'
  return undefined
}
