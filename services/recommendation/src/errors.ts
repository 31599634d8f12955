import { upstreamProblems } from '@polyshop/downstream'
import { defineProblems } from '@polyshop/problem'

/** Every error the recommendation service answers with (codes REC_*), in GraphQL `extensions.code`. */
export const errors = defineProblems('REC', {
  UNAUTHENTICATED: { status: 401, title: 'Unauthorized' },
  FORBIDDEN: { status: 403, title: 'Forbidden' },
  KEYS_UNAVAILABLE: { status: 503, title: 'Service Unavailable' },
  INVALID_LIMIT: { status: 400, title: 'Invalid limit' },
  ...upstreamProblems
})
