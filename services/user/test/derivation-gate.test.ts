import { ProblemError } from '@polyshop/problem'
import t from 'tap'
import { DerivationGate } from '../src/domain/derivation-gate.js'
import { build, PASSWORD, register } from './helper.js'

t.test('the gate runs at most `concurrency` at once, queues `queue` more in order, and refuses the rest at once', async (t) => {
  const gate = new DerivationGate(2, 3)
  const releases: Array<() => void> = []
  const started: number[] = []
  const outcomes = Array.from({ length: 8 }, (_, i) =>
    gate
      .run(
        () =>
          new Promise<number>((resolve) => {
            started.push(i)
            releases.push(() => resolve(i))
          })
      )
      .then(
        (value) => ({ ok: value }),
        (error: unknown) => ({ error })
      )
  )
  await new Promise((resolve) => setImmediate(resolve))
  t.same(started, [0, 1], 'two run')
  t.equal(gate.waiting, 3, 'three wait')
  for (const outcome of (await Promise.all(outcomes.slice(5))) as Array<{ error: ProblemError }>) {
    t.ok(outcome.error instanceof ProblemError)
    t.match(outcome.error, { code: 'USR_BUSY', status: 503, extensions: { retryAfter: 1 } }, 'the rest are told to come back')
  }
  while (releases.length > 0) {
    ;(releases.shift() as () => void)()
    await new Promise((resolve) => setImmediate(resolve))
  }
  t.same(
    await Promise.all(outcomes.slice(0, 5)),
    [0, 1, 2, 3, 4].map((ok) => ({ ok })),
    'the queued ran, in order'
  )
  t.same(started, [0, 1, 2, 3, 4])
  t.equal(gate.peak, 2, 'never more than two at once')
  t.equal(gate.running, 0)
})

t.test('a storm of sign-ins for unknown accounts: every one answered, one hash at a time, the excess told to retry', async (t) => {
  const { app } = await build(t, { PASSWORD_HASH_CONCURRENCY: '1', PASSWORD_HASH_QUEUE: '8' })
  const answers = await Promise.all(
    Array.from({ length: 50 }, (_, i) =>
      app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        remoteAddress: `10.0.${Math.floor(i / 200)}.${(i % 200) + 1}`,
        payload: { email: `nobody-${i}@example.com`, password: 'a guess that is long enough' }
      })
    )
  )
  const byStatus = answers.reduce<Record<number, number>>((counts, answer) => {
    counts[answer.statusCode] = (counts[answer.statusCode] ?? 0) + 1
    return counts
  }, {})
  t.same(Object.keys(byStatus).sort(), ['401', '503'], `only "wrong credentials" and "busy" (${JSON.stringify(byStatus)})`)
  t.ok((byStatus[401] ?? 0) >= 9, 'the running and queued attempts are checked')
  for (const busy of answers.filter((answer) => answer.statusCode === 503)) {
    t.equal(busy.headers['retry-after'], '1')
    t.match(busy.headers['content-type'], /^application\/problem\+json/)
    t.equal(busy.json().code, 'USR_BUSY')
  }
  t.equal(app.passwordDerivations.peak, 1, 'never two scrypt derivations (128 MiB each at the production cost) at once')
  const after = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { email: 'nobody-0@example.com', password: 'a guess that is long enough' }
  })
  t.equal(after.statusCode, 401, 'once the storm passed, sign-ins are checked again')
})

t.test('a sign-in refused as busy before its password was checked does not use up the client’s tries', async (t) => {
  const { app } = await build(t, { PASSWORD_HASH_CONCURRENCY: '1', PASSWORD_HASH_QUEUE: '0', LOGIN_MAX_FAILURES: '5' })
  await register(app, 'busy@example.com')
  const attempt = (password: string) =>
    app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      remoteAddress: '10.9.9.9',
      payload: { email: 'busy@example.com', password }
    })
  // Hold the only derivation slot: every sign-in meanwhile is refused as busy, unchecked.
  let release = () => {}
  let held = app.passwordDerivations.run(() => new Promise<void>((resolve) => (release = resolve)))
  const storm = await Promise.all(Array.from({ length: 5 }, () => attempt('a wrong guess that is long enough')))
  t.same(
    storm.map((answer) => answer.statusCode),
    [503, 503, 503, 503, 503],
    'five told to retry'
  )
  release()
  await held
  // The refused attempts took no slot: five wrong guesses are checked, the sixth waits.
  for (let i = 0; i < 5; i++) t.equal((await attempt('a wrong guess that is long enough')).statusCode, 401, `guess ${i + 1} is checked`)
  t.equal((await attempt(PASSWORD)).statusCode, 429, 'the sixth attempt in the window waits')
  // The same for the first unknown email: its decoy hash is refused as busy.
  held = app.passwordDerivations.run(() => new Promise<void>((resolve) => (release = resolve)))
  const unknown = (client: string) =>
    app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      remoteAddress: client,
      payload: { email: 'nobody@example.com', password: 'a wrong guess that is long enough' }
    })
  t.equal((await unknown('10.8.8.1')).statusCode, 503, 'busy while every slot is taken')
  release()
  await held
  t.equal((await unknown('10.8.8.2')).statusCode, 401, 'and afterwards unknown emails are checked again (a refused decoy hash is not kept)')
})
