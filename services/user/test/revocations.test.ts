import { RevocationFeed, RevocationList } from '@polyshop/auth'
import { testDatabase } from '@polyshop/testkit'
import t from 'tap'
import { RevocationStore } from '../src/repositories/revocations.js'
import { build } from './helper.js'

t.test('revocations made in the same millisecond beyond a page are all read, and what follows them too', async (t) => {
  const { db } = await testDatabase(t, 'user')
  const store = new RevocationStore(db, 900, { pageSize: 50 })
  await store.ensureIndexes()
  // One user's 130 sessions ended together: one revokedAt for all, more than two pages.
  const sessions = Array.from({ length: 130 }, (_, i) => `s-${String(i).padStart(3, '0')}`)
  await store.revokeSessions('ada', sessions, 'signed out everywhere')
  const list = new RevocationList()
  const asked: Array<{ since: number; after?: string }> = []
  const feed = new RevocationFeed({
    list,
    fetchSince: async (cursor) => {
      asked.push(cursor)
      return await store.since(cursor)
    }
  })
  await feed.pollOnce()
  t.equal(list.size, 130, 'every session of the same millisecond is read in one poll')
  t.equal(asked.length, 3, 'three pages: two full ones followed at once, then the rest')
  for (const sessionId of sessions) {
    t.ok(
      list.isRevoked({ userId: 'ada', sessionId, issuedAt: new Date(), roles: [], tokenId: 'j', token: 't', expiresAt: new Date() }),
      `${sessionId} is refused`
    )
  }
  await store.revokeUser('bob', 'disabled')
  await feed.pollOnce()
  t.equal(list.size, 131, 'and a later revocation is read by the next poll')
})

t.test('the feed over HTTP takes the cursor of a full page', async (t) => {
  const { app } = await build(t)
  const first = await app.inject({ method: 'GET', url: `/internal/v1/revocations?since=${Date.now() - 1000}&after=zzz` })
  t.equal(first.statusCode, 200, 'a cursor is accepted')
  t.same(first.json().revocations, [])
  t.notOk('next' in first.json(), 'a page that is not full has no next cursor')
  const bad = await app.inject({ method: 'GET', url: '/internal/v1/revocations?since=0&after=' })
  t.equal(bad.statusCode, 400, 'an empty cursor id is refused')
})
