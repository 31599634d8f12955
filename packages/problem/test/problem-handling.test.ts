import Fastify from 'fastify'
import t, { type Test } from 'tap'
import Type from 'typebox'
import { defineProblems, PROBLEM_CONTENT_TYPE, problemHandling } from '../src/index.js'

const errors = defineProblems('USR', {
  EMAIL_TAKEN: { status: 409, title: 'Email already registered' },
  NOT_FOUND: { status: 404, title: 'User not found' }
})

async function build(t: Test) {
  const app = Fastify({ logger: false })
  await app.register(problemHandling, { prefix: 'USR' })
  app.post(
    '/users',
    {
      schema: {
        body: Type.Object(
          { email: Type.String({ format: 'email' }), age: Type.Optional(Type.Integer({ minimum: 0 })) },
          { additionalProperties: false }
        )
      }
    },
    async (request) => {
      if ((request.body as { email: string }).email === 'taken@example.com') throw errors.EMAIL_TAKEN('That email already has an account.')
      return { ok: true }
    }
  )
  app.get('/boom', async () => {
    throw new Error('connection to mongodb://admin:secret@db refused')
  })
  t.teardown(() => app.close())
  return app
}

t.test('a service error becomes its problem with the prefixed code', async (t) => {
  const app = await build(t)
  const res = await app.inject({ method: 'POST', url: '/users', payload: { email: 'taken@example.com' } })
  t.equal(res.statusCode, 409)
  t.equal(res.headers['content-type'], `${PROBLEM_CONTENT_TYPE}; charset=utf-8`)
  t.same(res.json(), {
    type: '/problems/usr-email-taken',
    title: 'Email already registered',
    status: 409,
    detail: 'That email already has an account.',
    instance: '/users',
    code: 'USR_EMAIL_TAKEN'
  })
  t.equal(errors.codes.NOT_FOUND, 'USR_NOT_FOUND')
})

t.test('schema validation failures list every invalid field with a JSON pointer', async (t) => {
  const app = await build(t)
  const res = await app.inject({ method: 'POST', url: '/users', payload: { age: -1, admin: true } })
  t.equal(res.statusCode, 400)
  const body = res.json()
  t.equal(body.code, 'USR_VALIDATION')
  t.ok(body.errors.length >= 1)
  t.ok(body.errors.every((e: { in: string }) => e.in === 'body'))
  t.ok(
    body.errors.some((e: { pointer: string }) => e.pointer === '/email' || e.pointer === '/admin'),
    'points at the field'
  )
})

t.test('malformed JSON is a 400 problem, not a crash', async (t) => {
  const app = await build(t)
  const res = await app.inject({ method: 'POST', url: '/users', headers: { 'content-type': 'application/json' }, payload: '{"email":' })
  t.equal(res.statusCode, 400)
  t.equal(res.json().code, 'USR_CTP_INVALID_JSON_BODY')
})

t.test('a 5xx never leaks its message', async (t) => {
  const app = await build(t)
  const res = await app.inject({ method: 'GET', url: '/boom' })
  t.equal(res.statusCode, 500)
  t.notMatch(res.body, /mongodb|secret|refused/)
  t.same(res.json(), {
    type: '/problems/usr-internal',
    title: 'Internal Server Error',
    status: 500,
    detail: 'The server could not complete the request.',
    instance: '/boom',
    code: 'USR_INTERNAL'
  })
})

t.test('an unknown route is a 404 problem', async (t) => {
  const app = await build(t)
  const res = await app.inject({ method: 'GET', url: '/nope?x=1' })
  t.equal(res.statusCode, 404)
  t.match(res.json(), { code: 'USR_ROUTE_NOT_FOUND', detail: 'No route GET /nope.' })
})

t.test('prefixes are checked', async (t) => {
  t.throws(() => defineProblems('users', {}), /prefix/)
})

t.test('messages of other 4xx errors and query strings never reach the client', async (t) => {
  const app = Fastify({ logger: false })
  await app.register(problemHandling, { prefix: 'GW' })
  app.get('/upstream', async () => {
    throw Object.assign(new Error('upstream said: {"internal":"stack at db.js:12"}'), { statusCode: 409 })
  })
  t.teardown(() => app.close())
  const res = await app.inject({ method: 'GET', url: '/upstream?token=secret-token' })
  t.equal(res.statusCode, 409)
  t.notMatch(res.body, /upstream said|secret-token/)
  t.match(res.json(), { code: 'GW_REQUEST_REFUSED', instance: '/upstream' })
})
