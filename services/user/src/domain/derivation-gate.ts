import { errors } from '../errors.js'

/**
 * At most `concurrency` password derivations at once. Each holds 128·N·r bytes while it runs
 * (128 MiB at OWASP's cost), outside the JavaScript heap, so a burst of sign-ins — an attacker's,
 * or a crowd's — would otherwise grow the process past its memory limit and get it killed, taking
 * sign-in, refresh and the JWKS down with it. Up to `queue` more callers wait their turn, in
 * order; past that a caller is told to come back (503 USR_BUSY with Retry-After) at once.
 */
export class DerivationGate {
  readonly #concurrency: number
  readonly #queue: number
  #running = 0
  readonly #waiting: Array<() => void> = []
  /** The most derivations that ever ran at once (metrics and tests). */
  peak = 0

  constructor(concurrency: number, queue: number) {
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError('concurrency must be a positive integer')
    this.#concurrency = concurrency
    this.#queue = queue
  }

  get running(): number {
    return this.#running
  }

  get waiting(): number {
    return this.#waiting.length
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#running < this.#concurrency) {
      this.#running++
    } else {
      if (this.#waiting.length >= this.#queue) {
        throw errors.BUSY('Too many sign-ins at once; try again in a moment.', { retryAfter: 1 })
      }
      // The slot is handed over by the one that finishes, so no newcomer can overtake.
      await new Promise<void>((resolve) => this.#waiting.push(resolve))
    }
    this.peak = Math.max(this.peak, this.#running)
    try {
      return await work()
    } finally {
      const next = this.#waiting.shift()
      if (next === undefined) this.#running--
      else next()
    }
  }
}
