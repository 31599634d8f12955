import { generateKeyPairSync } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { jwksKeyResolver, type PublicJwk, toPublicJwk } from '../src/index.js'

t.test('keys come from the JWKS endpoint, cached, refetched for a new kid at most so often', async (t) => {
  const first = toPublicJwk(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey)
  const second = toPublicJwk(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey)
  let published: PublicJwk[] = [first]
  let requests = 0
  const server = createServer((_request, response) => {
    requests++
    response.setHeader('content-type', 'application/json')
    response.end(JSON.stringify({ keys: published }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => server.close())
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`
  const resolve = jwksKeyResolver({ url, minRefetchIntervalMs: 50 })

  t.match(await resolve(first.kid), /BEGIN PUBLIC KEY/)
  t.match(await resolve(first.kid), /BEGIN PUBLIC KEY/)
  t.equal(requests, 1, 'cached')
  t.equal(await resolve('garbage'), undefined)
  t.equal(await resolve('garbage'), undefined)
  t.equal(requests, 1, 'unknown kids do not refetch within the interval')

  published = [second, first]
  await new Promise((r) => setTimeout(r, 60))
  t.match(await resolve(second.kid), /BEGIN PUBLIC KEY/, 'a rotated-in key is found')
  t.equal(requests, 2)
})
