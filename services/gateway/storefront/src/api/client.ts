import { endSession, type Session, session, startSession } from '../session.js'
import { REFRESH } from './operations.js'
import type { AuthPayload } from './types.js'

/** An error from the API (or the way to it), with a message written for the shopper. */
export class ApiError extends Error {
  readonly code: string
  readonly retryAfter: number | undefined

  constructor(code: string, message: string, retryAfter?: number) {
    super(message)
    this.name = 'ApiError'
    this.code = code
    this.retryAfter = retryAfter
  }
}

/** Codes whose API message is for developers: the shopper reads these instead. */
const FRIENDLY: Record<string, string> = {
  INTERNAL: 'Something went wrong on our side. Please try again.',
  NETWORK: "We can't reach polyshop right now. Check your connection and try again.",
  UNAVAILABLE: 'polyshop is briefly unavailable. Please try again in a moment.',
  GW_UPSTREAM_UNAVAILABLE: 'Part of the shop is briefly unavailable. Please try again in a moment.',
  GW_UPSTREAM_TIMEOUT: 'The shop took too long to answer. Please try again.',
  GW_KEYS_UNAVAILABLE: "We can't check your sign-in right now. Please try again in a moment.",
  GRAPHQL_VALIDATION_FAILED: 'The shop did not understand this request. Please reload the page.',
  SESSION_ENDED: 'Your session has ended. Please sign in again.'
}

/** "a shipped order can no longer be cancelled" → "A shipped order can no longer be cancelled." */
function sentence(text: string): string {
  const trimmed = text.trim()
  if (trimmed === '') return FRIENDLY.INTERNAL as string
  const capital = trimmed[0]?.toUpperCase() + trimmed.slice(1)
  return /[.!?]$/.test(capital) ? capital : `${capital}.`
}

interface GraphqlError {
  message: string
  extensions?: { code?: string; retryAfter?: number }
}

const isUnauthenticated = (code: string) => code.endsWith('UNAUTHENTICATED') || code.endsWith('TOKEN_INVALID')

/** Access tokens are renewed this long before they expire. */
const RENEW_EARLY_MS = 30_000

async function post<T>(query: string, variables: object | undefined, accessToken: string | undefined): Promise<T> {
  let response: Response
  try {
    response = await fetch('/graphql', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        ...(accessToken === undefined ? {} : { authorization: `Bearer ${accessToken}` })
      },
      body: JSON.stringify({ query, variables })
    })
  } catch {
    throw new ApiError('NETWORK', FRIENDLY.NETWORK as string)
  }
  let body: { data?: T | null; errors?: GraphqlError[] }
  try {
    body = (await response.json()) as typeof body
  } catch {
    // A proxy's HTML error page, a cut connection: not the API speaking.
    throw new ApiError('UNAVAILABLE', FRIENDLY.UNAVAILABLE as string)
  }
  const first = body.errors?.[0]
  if (first !== undefined) {
    const code = first.extensions?.code ?? 'INTERNAL'
    throw new ApiError(code, FRIENDLY[code] ?? sentence(first.message), first.extensions?.retryAfter)
  }
  if (body.data === undefined || body.data === null) throw new ApiError('UNAVAILABLE', FRIENDLY.UNAVAILABLE as string)
  return body.data
}

let renewing: Promise<Session | null> | undefined

/**
 * A fresh access token for the session, renewed at most once at a time across every tab (the
 * Web Locks API where there is one): a refresh token works once, so two tabs renewing at the
 * same moment would end each other's sessions.
 */
function renew(stale: Session): Promise<Session | null> {
  renewing ??= (async () => {
    const work = async () => {
      const latest = session.reload()
      if (latest === null) return null
      // Another tab renewed it meanwhile.
      if (latest.accessToken !== stale.accessToken && latest.expiresAt - RENEW_EARLY_MS > Date.now()) return latest
      try {
        const { refresh } = await post<{ refresh: AuthPayload }>(REFRESH, { refreshToken: latest.refreshToken }, undefined)
        return startSession(refresh)
      } catch (error) {
        if (error instanceof ApiError && (error.code === 'NETWORK' || error.code === 'UNAVAILABLE' || error.code.startsWith('GW_')))
          throw error
        endSession()
        return null
      }
    }
    return 'locks' in navigator ? navigator.locks.request('polyshop.session.renew', work) : work()
  })().finally(() => {
    renewing = undefined
  })
  return renewing
}

async function currentToken(): Promise<Session | null> {
  const current = session.get()
  if (current === null || current.expiresAt - RENEW_EARLY_MS > Date.now()) return current
  return renew(current)
}

/**
 * The access token to open a live connection with: the session's, renewed first when it is about
 * to expire or when `refused` (the server closed the connection over it). Undefined: signed out,
 * or the session could not be renewed (it has ended).
 */
export async function liveAccessToken(refused = false): Promise<string | undefined> {
  const current = session.get()
  if (current === null) return undefined
  if (!refused) return (await currentToken())?.accessToken
  return (await renew(current))?.accessToken
}

/**
 * One GraphQL operation at /graphql, signed in when there is a session. A refused access token
 * is renewed once and the operation sent again (safe: the refused call did nothing, and orders
 * carry an idempotency key); if the session cannot be renewed, it ends.
 */
export async function gql<T>(query: string, variables?: object): Promise<T> {
  const signedIn = await currentToken()
  try {
    return await post<T>(query, variables, signedIn?.accessToken)
  } catch (error) {
    if (!(error instanceof ApiError) || signedIn === null || !isUnauthenticated(error.code)) throw error
    const renewed = await renew(signedIn)
    if (renewed === null) throw new ApiError('SESSION_ENDED', FRIENDLY.SESSION_ENDED as string)
    return post<T>(query, variables, renewed.accessToken)
  }
}

/** What to show for any failure: the API's words, or ours for the unexpected. */
export function messageOf(error: unknown): string {
  return error instanceof ApiError ? error.message : (FRIENDLY.INTERNAL as string)
}
