// Scenario 2's reference: the thinnest Fastify hop, @fastify/http-proxy, in front of the same service.
import proxy from '@fastify/http-proxy'
import Fastify from 'fastify'

const app = Fastify({ logger: false, keepAliveTimeout: 65_000 })
await app.register(proxy, { upstream: process.argv[2] ?? '', undici: { connections: 128, pipelining: 1 } })
const url = await app.listen({ port: 0, host: '127.0.0.1' })
console.log(`listening ${new URL(url).port}`)
