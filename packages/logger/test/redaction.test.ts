import { Writable } from 'node:stream'
import t from 'tap'
import { createLogger } from '../src/index.js'

function capture() {
  const lines: Array<Record<string, unknown>> = []
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)))
      done()
    }
  })
  return { lines, stream }
}

t.test('authorization headers, cookies, passwords and tokens are redacted', async (t) => {
  const { lines, stream } = capture()
  const log = createLogger({ name: 'user' }, stream)
  log.info(
    {
      req: {
        method: 'POST',
        url: '/auth/login',
        headers: { authorization: 'Bearer eyJhbGciOi.secret', cookie: 'sid=abc', 'user-agent': 'curl' }
      },
      body: { email: 'ada@example.com', password: 'correct horse battery staple' },
      result: { user: { id: 'u1' }, accessToken: 'at-123', refreshToken: 'rt-456' },
      nested: { deeper: { newPassword: 'p2' } }
    },
    'login'
  )
  const text = JSON.stringify(lines)
  for (const secret of ['eyJhbGciOi', 'sid=abc', 'correct horse', 'at-123', 'rt-456', '"p2"']) {
    t.notOk(text.includes(secret), `${secret} does not appear`)
  }
  t.match(
    lines[0],
    {
      req: { headers: { authorization: '[redacted]', cookie: '[redacted]', 'user-agent': 'curl' } },
      body: { email: 'ada@example.com', password: '[redacted]' },
      result: { accessToken: '[redacted]', refreshToken: '[redacted]' }
    },
    'secrets are replaced, harmless fields stay'
  )
})

t.test('every line names the service and its level as a word', async (t) => {
  const { lines, stream } = capture()
  createLogger({ name: 'order', level: 'debug' }, stream).debug('hello')
  t.match(lines[0], { service: 'order', level: 'debug', msg: 'hello' })
  t.match(lines[0]?.time, /^\d{4}-\d\d-\d\dT/)
})
