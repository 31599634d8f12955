import { type Identity, RevocationFeed, RevocationList } from '@polyshop/auth'
import t from 'tap'

const identity = (userId: string, sessionId: string | undefined, issuedAt: number): Identity => ({
  userId,
  roles: ['customer'],
  tokenId: 'jti',
  token: 't',
  expiresAt: new Date(issuedAt + 900_000),
  issuedAt: new Date(issuedAt),
  ...(sessionId === undefined ? {} : { sessionId })
})

t.test('a session revocation ends that session only; a user revocation ends what was issued before it', async (t) => {
  const now = Date.now()
  const list = new RevocationList(60_000)
  list.add([
    { id: '1', userId: 'ada', sessionId: 's1', revokedAt: now - 1000 },
    { id: '2', userId: 'bob', revokedAt: now - 1000 }
  ])
  t.ok(list.isRevoked(identity('ada', 's1', now - 5000)), "ada's ended session")
  t.ok(list.isRevoked(identity('ada', 's1', now)), 'even a token of it minted later (a refresh that raced the logout)')
  t.notOk(list.isRevoked(identity('ada', 's2', now - 5000)), 'her other session')
  t.ok(list.isRevoked(identity('bob', 's3', now - 5000)), "bob's token from before he was disabled")
  t.ok(list.isRevoked(identity('bob', undefined, now - 5000)), 'with or without a session id')
  t.notOk(list.isRevoked(identity('bob', 's4', now)), 'one issued after (re-enabled, signed in again)')
  list.add([{ id: '1', userId: 'ada', sessionId: 's1', revokedAt: now - 1000 }])
  t.equal(list.size, 2, 'repeats (the feed overlaps) are dropped by id')
})

t.test('entries are kept as long as a token could outlive them, then forgotten', async (t) => {
  const now = Date.now()
  const list = new RevocationList(60_000)
  list.add([{ id: 'old', userId: 'ada', sessionId: 's1', revokedAt: now - 61_000 }], now)
  t.equal(list.size, 0, 'too old to matter is not even added')
  list.add([{ id: 'a', userId: 'ada', sessionId: 's1', revokedAt: now }], now)
  t.ok(list.isRevoked(identity('ada', 's1', now - 1000)))
  list.add([], now + 60_001)
  t.equal(list.size, 0)
  t.notOk(list.isRevoked(identity('ada', 's1', now - 1000)), 'forgotten once every token it could end has expired')
})

t.test('the feed asks from the last answer less an overlap, and survives failures', async (t) => {
  const asked: number[] = []
  const list = new RevocationList()
  const now = Date.now()
  const pages = [
    async () => ({ now, revocations: [{ id: '1', userId: 'ada', sessionId: 's1', revokedAt: now - 10 }] }),
    async () => {
      throw new Error('down')
    },
    async () => ({ now: now + 2000, revocations: [{ id: '2', userId: 'bob', sessionId: 's2', revokedAt: now + 1500 }] })
  ]
  const errors: number[] = []
  const recovered: number[] = []
  const feed = new RevocationFeed({
    list,
    fetchSince: async ({ since }) => {
      asked.push(since)
      return await (pages.shift() as () => Promise<{ now: number; revocations: [] }>)()
    },
    onError: (_error, failingForMs) => errors.push(failingForMs),
    onRecovered: (failedForMs) => recovered.push(failedForMs)
  })
  await feed.pollOnce()
  await feed.pollOnce()
  await feed.pollOnce()
  t.same(asked, [0, now - RevocationFeed.OVERLAP_MS, now - RevocationFeed.OVERLAP_MS], 'a failed poll asks the same again')
  t.equal(errors.length, 1)
  t.equal(recovered.length, 1)
  t.equal(list.size, 2)
})
