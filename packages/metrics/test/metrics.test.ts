import Fastify from 'fastify'
import t from 'tap'
import { metrics } from '../src/index.js'

t.test('requests are counted by route pattern, not raw URL, and exposed in Prometheus format', async (t) => {
  const app = Fastify()
  await app.register(metrics, { service: 'product' })
  app.get('/products/:id', async () => ({ ok: true }))
  t.teardown(() => app.close())
  await app.inject('/products/1')
  await app.inject('/products/2')
  const res = await app.inject('/metrics')
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^text\/plain/)
  t.match(res.body, /http_request_duration_seconds_count\{service="product",method="GET",route="\/products\/:id",status_code="200"\} 2/)
  t.notMatch(res.body, /route="\/products\/1"/)
  t.match(res.body, /process_cpu_user_seconds_total\{service="product"\}/)
})
