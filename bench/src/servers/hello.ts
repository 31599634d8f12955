// Scenario 1's servers: the same 'hello' JSON from raw node:http and from Fastify.
import { createServer } from 'node:http'
import Fastify from 'fastify'

const kind = process.argv[2]
const body = JSON.stringify({ hello: 'world' })
if (kind === 'raw') {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) })
    response.end(body)
  })
  server.keepAliveTimeout = 65_000
  server.listen(0, '127.0.0.1', () => {
    const address = server.address()
    console.log(`listening ${typeof address === 'object' && address !== null ? address.port : 0}`)
  })
} else {
  const app = Fastify({ logger: false, keepAliveTimeout: 65_000 })
  app.get('/', { schema: { response: { 200: { type: 'object', properties: { hello: { type: 'string' } } } } } }, async () => ({
    hello: 'world'
  }))
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  console.log(`listening ${new URL(url).port}`)
}
