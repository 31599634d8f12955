import { defineProblems } from '@polyshop/problem'

/** Every error the user service answers with (codes USR_*). */
export const errors = defineProblems('USR', {
  EMAIL_TAKEN: { status: 409, title: 'Email already registered' },
  WEAK_PASSWORD: { status: 400, title: 'Password does not meet the policy' },
  INVALID_CREDENTIALS: { status: 401, title: 'Invalid email or password' },
  INVALID_CLIENT: { status: 401, title: 'Invalid client credentials' },
  INVALID_REFRESH_TOKEN: { status: 401, title: 'Invalid refresh token' },
  REFRESH_TOKEN_REUSED: { status: 401, title: 'Refresh token already used' },
  ACCOUNT_DISABLED: { status: 403, title: 'Account disabled' },
  TOO_MANY_ATTEMPTS: { status: 429, title: 'Too many failed sign-ins' },
  BUSY: { status: 503, title: 'Too many sign-ins at once' },
  USER_NOT_FOUND: { status: 404, title: 'User not found' },
  CANNOT_DISABLE_SELF: { status: 409, title: 'An admin cannot disable their own account' },
  INVALID_CURSOR: { status: 400, title: 'Invalid cursor' }
})
