import { ProblemError } from '@polyshop/problem'
import Fastify from 'fastify'
import mercurius from 'mercurius'
import t from 'tap'
import { graphqlHardening, productResolvers, productTypeDefs } from '../src/index.js'

const schema = /* GraphQL */ `
  ${productTypeDefs}
  type Node { id: ID!, children(first: Int): [Node!]!, pages(first: Int = 30): [Node!]! }
  type Query {
    node: Node!
    product: Product!
    refused: String
    broken: String
    big: Amount
  }
`

async function server(t: { teardown: (fn: () => unknown) => void }, options: Partial<Parameters<typeof graphqlHardening>[0]> = {}) {
  const app = Fastify({ logger: false })
  const node = { id: '1', children: () => [node], pages: () => [node] }
  await app.register(mercurius, {
    schema,
    resolvers: {
      ...productResolvers,
      Query: {
        node: () => node,
        product: () => ({
          id: 'p',
          name: 'P',
          description: '',
          category: 'c',
          price: { amount: 1999, currency: 'EUR' },
          stock: 1,
          images: [],
          attributes: { origin: 'Japan' },
          createdAt: '2026-01-01T00:00:00.000Z',
          updatedAt: '2026-01-01T00:00:00.000Z'
        }),
        refused: () => {
          throw new ProblemError('TST_OUT_OF_STOCK', { status: 409, title: 'Conflict' }, 'Only 2 left.')
        },
        broken: () => {
          throw new Error('connect ECONNREFUSED 10.0.0.7:27017 (internal detail)')
        },
        big: () => 2 ** 60
      }
    } as never,
    ...graphqlHardening({
      introspection: false,
      ide: false,
      maxDepth: 5,
      maxCost: 500,
      downstreamCalls: { maxCalls: 4, batchedFields: ['Node.pages'] },
      ...options
    })
  })
  t.teardown(() => app.close())
  return async (query: string) => {
    const response = await app.inject({ method: 'POST', url: '/graphql', payload: { query } })
    return {
      status: response.statusCode,
      body: response.json() as { data?: unknown; errors?: Array<{ message: string; extensions: { code: string } }> }
    }
  }
}

t.test('deep and expensive operations are refused before any resolver runs', async (t) => {
  const ask = await server(t)
  const deep = await ask('{ node { children { children { children { children { children { id } } } } } } }')
  t.match(deep.body.errors?.[0]?.message, /exceeds maximum operation depth|depth/)
  const expensive = await ask('{ node { children(first: 100) { children(first: 100) { id } } } }')
  t.equal(expensive.body.errors?.[0]?.extensions.code, 'GRAPHQL_TOO_EXPENSIVE')
  t.equal(expensive.body.data ?? null, null)
  const viaFragments = await ask(
    '{ node { ...a } } fragment a on Node { children(first: 30) { ...b } } fragment b on Node { children(first: 30) { id } }'
  )
  t.equal(viaFragments.body.errors?.[0]?.extensions.code, 'GRAPHQL_TOO_EXPENSIVE', 'fragments are counted where they are spread')
  const defaulted = await ask('{ node { pages { pages { id } } } }')
  t.equal(
    defaulted.body.errors?.[0]?.extensions.code,
    'GRAPHQL_TOO_EXPENSIVE',
    "a page size left out counts as the schema's default (30 × 30)"
  )
  const aliases = Array.from({ length: 10 }, (_, i) => `n${i}: node { id }`).join(' ')
  t.equal(
    (await ask(`{ ${aliases} }`)).body.errors?.[0]?.extensions.code,
    'GRAPHQL_TOO_EXPENSIVE',
    'each aliased top-level field is a call to a service'
  )
  const fine = await ask('{ node { children(first: 10) { id } } }')
  t.same(fine.body, { data: { node: { children: [{ id: '1' }] } } })
})

t.test('an operation making more calls to the services than allowed is refused, however they are spelled', async (t) => {
  const ask = await server(t, { maxCost: 100_000 })
  const aliased = (n: number) => Array.from({ length: n }, (_, i) => `n${i}: refused`).join(' ')
  const four = await ask(`{ ${aliased(4)} }`)
  t.notOk(
    four.body.errors?.some((e) => e.extensions.code === 'GRAPHQL_TOO_MANY_CALLS'),
    'four calls are allowed'
  )
  for (const [query, what] of [
    [`{ ${aliased(5)} }`, 'five aliases'],
    [`{ ...f } fragment f on Query { ${aliased(5)} }`, 'in a fragment'],
    [`{ ... on Query { ${aliased(3)} } ...g } fragment g on Query { a: refused b: refused }`, 'inline and named fragments together'],
    ['{ a: node { pages { id } } b: node { id } c: node { id } d: node { id } }', 'four fields and a batched lookup'],
    ['{ a: node { ...p } b: node { id } c: node { id } d: node { id } } fragment p on Node { pages { id } }', 'the lookup in a fragment']
  ]) {
    const answer = await ask(query as string)
    t.equal(answer.body.errors?.[0]?.extensions.code, 'GRAPHQL_TOO_MANY_CALLS', what as string)
    t.equal(answer.body.data ?? null, null, `${what}: nothing ran`)
  }
  t.notOk(
    (await ask('{ a: node { pages { id } x: pages { id } } b: node { id } c: node { id } }')).body.errors,
    'a batched lookup selected twice under one field is still one call'
  )
  t.equal(
    (await ask('{ a: node { pages { id } } b: node { ...p } c: node { id } } fragment p on Node { pages { id } }')).body.errors?.[0]
      ?.extensions.code,
    'GRAPHQL_TOO_MANY_CALLS',
    'under two top-level fields it is two calls: they resolve apart, so the loader cannot batch them'
  )
  t.notOk((await ask('{ __typename a: refused }')).body.errors?.some((e) => e.extensions.code === 'GRAPHQL_TOO_MANY_CALLS'))
})

t.test('introspection is off unless enabled', async (t) => {
  const off = await server(t)
  t.equal((await off('{ __schema { queryType { name } } }')).body.errors?.[0]?.extensions.code, 'GRAPHQL_VALIDATION_FAILED')
  const on = await server(t, { introspection: true })
  t.same((await on('{ __schema { queryType { name } } }')).body, { data: { __schema: { queryType: { name: 'Query' } } } })
})

t.test('errors carry a code; a problem keeps its words, anything else says nothing of internals', async (t) => {
  const ask = await server(t)
  const refused = await ask('{ refused }')
  t.same(refused.body.errors?.[0]?.extensions, { code: 'TST_OUT_OF_STOCK', status: 409, classification: 'BAD_REQUEST' })
  t.equal(refused.body.errors?.[0]?.message, 'Only 2 left.')
  const broken = await ask('{ broken }')
  t.equal(broken.body.errors?.[0]?.extensions.code, 'INTERNAL')
  t.notMatch(JSON.stringify(broken.body), /ECONNREFUSED|27017|internal detail/)
  const unsafe = await ask('{ big }')
  t.equal(unsafe.body.errors?.[0]?.extensions.code, 'INTERNAL', 'an amount beyond 2^53 is refused, never rounded')
  const invalid = await ask('{ nope }')
  t.equal(invalid.body.errors?.[0]?.extensions.code, 'GRAPHQL_VALIDATION_FAILED')
})

t.test('a product reads the same as in REST, attributes as name/value pairs', async (t) => {
  const ask = await server(t)
  const { body } = await ask('{ product { price { amount currency } attributes { name value } } }')
  t.same(body, { data: { product: { price: { amount: 1999, currency: 'EUR' }, attributes: [{ name: 'origin', value: 'Japan' }] } } })
})

t.test('fragments spread inside fragments cannot make validation itself expensive', async (t) => {
  // Ten levels of fragments, each spreading the next ten times: 10^10 leaves if expanded naively.
  const levels = 10
  const fragments = Array.from({ length: levels }, (_, level) =>
    level === levels - 1
      ? `fragment f${level} on Query { refused }`
      : `fragment f${level} on Query { ${Array.from({ length: 10 }, () => `...f${level + 1}`).join(' ')} }`
  ).join(' ')
  const nested = Array.from({ length: levels }, (_, level) =>
    level === levels - 1
      ? `fragment g${level} on Node { id }`
      : `fragment g${level} on Node { ${Array.from({ length: 10 }, () => `...g${level + 1}`).join(' ')} children { ...g${level + 1} } }`
  ).join(' ')
  for (const [options, query, code] of [
    [{ maxCost: 100_000 }, `{ ...f0 } ${fragments}`, 'GRAPHQL_TOO_MANY_CALLS'],
    [{ maxDepth: 50 }, `{ node { ...g0 } } ${nested}`, 'GRAPHQL_TOO_EXPENSIVE']
  ] as const) {
    const ask = await server(t, options)
    const answer = await ask(query)
    t.ok(
      answer.body.errors?.some((error) => error.extensions.code === code),
      `refused with ${code}: ${answer.body.errors?.map((error) => error.extensions.code).join(', ')}`
    )
    t.equal(answer.body.data ?? null, null)
  }
})
