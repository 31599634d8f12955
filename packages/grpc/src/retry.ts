import { Code, ConnectError, type Interceptor } from '@connectrpc/connect'

export interface RetryUnavailableOptions {
  /** Attempts in all, the first included. */
  attempts?: number
  /** The pause before the second attempt; doubled before each further one (with jitter). */
  backoffMs?: number
}

/**
 * Client side: a unary call that fails UNAVAILABLE — the peer's name did not resolve, the
 * connection was refused or reset, a server said it is draining — is sent again after a short
 * pause, within the call's own deadline (its signal ends the retries). Such failures come and go
 * while a Deployment rolls, a pod restarts or cluster DNS hiccups; the caller should not see them.
 * Only for services whose every method is idempotent, as polyshop's internal ones are (a repeated
 * ReserveStock for the same order returns the same reservation). Streams are never repeated.
 */
export function retryUnavailable(options: RetryUnavailableOptions = {}): Interceptor {
  const attempts = Math.max(1, options.attempts ?? 3)
  const backoffMs = options.backoffMs ?? 100
  return (next) => async (request) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await next(request)
      } catch (error) {
        if (request.stream || attempt >= attempts || ConnectError.from(error).code !== Code.Unavailable) throw error
        const pause = backoffMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2)
        await waitUnlessAborted(pause, request.signal)
        if (request.signal.aborted) throw error
      }
    }
  }
}

function waitUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
  })
}
