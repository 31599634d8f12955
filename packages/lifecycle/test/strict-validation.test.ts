import Fastify from 'fastify'
import t from 'tap'
import Type from 'typebox'
import { useStrictValidation } from '../src/index.js'

t.test('bodies are validated strictly; the query string is coerced from text', async (t) => {
  const app = Fastify()
  useStrictValidation(app)
  app.post(
    '/things',
    {
      schema: {
        body: Type.Object({ name: Type.String(), email: Type.Optional(Type.String({ format: 'email' })) }, { additionalProperties: false }),
        querystring: Type.Object({ limit: Type.Integer({ default: 10 }) })
      }
    },
    async (request) => ({ body: request.body, query: request.query })
  )
  t.teardown(() => app.close())
  const ok = await app.inject({ method: 'POST', url: '/things?limit=5', payload: { name: 'cup' } })
  t.same(ok.json(), { body: { name: 'cup' }, query: { limit: 5 } })
  t.equal((await app.inject({ method: 'POST', url: '/things', payload: { name: 7 } })).statusCode, 400, 'a number is not a string')
  t.equal(
    (await app.inject({ method: 'POST', url: '/things', payload: { name: 'cup', extra: 1 } })).statusCode,
    400,
    'unknown properties are refused, not stripped'
  )
  t.equal(
    (await app.inject({ method: 'POST', url: '/things', payload: { name: 'cup', email: 'nope' } })).statusCode,
    400,
    'formats are checked'
  )
  t.equal((await app.inject({ method: 'POST', url: '/things?limit=many', payload: { name: 'cup' } })).statusCode, 400)
})
