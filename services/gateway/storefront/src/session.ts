import type { AuthPayload, User } from './api/types.js'
import { persisted } from './store.js'

/** Who is signed in. Kept in localStorage so a reload or a new tab stays signed in. */
export interface Session {
  user: User
  accessToken: string
  refreshToken: string
  /** Epoch ms at which the access token expires. */
  expiresAt: number
}

function isSession(value: unknown): value is Session {
  const session = value as Partial<Session> | null
  return (
    typeof session === 'object' &&
    session !== null &&
    typeof session.accessToken === 'string' &&
    typeof session.refreshToken === 'string' &&
    typeof session.expiresAt === 'number' &&
    typeof session.user?.id === 'string' &&
    Array.isArray(session.user.roles)
  )
}

export const session = persisted<Session | null>('polyshop.session', null, isSession)

export function startSession(payload: AuthPayload): Session {
  const started: Session = {
    user: payload.user,
    accessToken: payload.accessToken,
    refreshToken: payload.refreshToken,
    expiresAt: Date.now() + payload.expiresIn * 1000
  }
  session.set(started)
  return started
}

export function endSession(): void {
  session.set(null)
}

export function isAdmin(current: Session | null): boolean {
  return current?.user.roles.includes('admin') === true
}
