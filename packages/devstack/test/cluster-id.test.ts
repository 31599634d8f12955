import t from 'tap'
import { newClusterId } from '../src/kafka.js'

t.test('cluster ids are 22 URL-safe base64 characters and never look like an option', async (t) => {
  for (let i = 0; i < 5000; i++) {
    const id = newClusterId()
    if (!/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/.test(id)) t.fail(`bad cluster id ${id}`)
  }
  t.pass('5000 ids checked')
})
