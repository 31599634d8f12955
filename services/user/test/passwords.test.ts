import t from 'tap'
import { hashPassword, passwordPolicyViolation, verifyPassword } from '../src/domain/passwords.js'

const production = { cost: 17, blockSize: 8, parallelization: 1 }

t.test('hashes carry OWASP scrypt parameters and a random salt', async (t) => {
  const a = await hashPassword('correct horse battery', production)
  const b = await hashPassword('correct horse battery', production)
  t.match(a, /^scrypt\$17\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/)
  t.not(a, b, 'salted')
  t.same(await verifyPassword('correct horse battery', a, production), { matches: true, needsRehash: false })
  t.same(await verifyPassword('correct horse batterY', a, production), { matches: false, needsRehash: false })
})

t.test('a hash made with older parameters still verifies and asks to be redone', async (t) => {
  const old = await hashPassword('correct horse battery', { cost: 14, blockSize: 8, parallelization: 1 })
  t.same(await verifyPassword('correct horse battery', old, production), { matches: true, needsRehash: true })
  t.same(await verifyPassword('x', 'garbage', production), { matches: false, needsRehash: true })
})

t.test('the policy refuses short, common and email-like passwords only', async (t) => {
  t.match(passwordPolicyViolation('short', 'a@b.c'), /at least 10/)
  t.match(passwordPolicyViolation('password123', 'a@b.c'), /too common/)
  t.match(passwordPolicyViolation('ada.lovelace', 'ada.lovelace@example.com'), /email/)
  t.match(passwordPolicyViolation('aaaaaaaaaaaa', 'a@b.c'), /different characters/)
  t.equal(passwordPolicyViolation('correct horse battery', 'a@b.c'), undefined)
  t.match(passwordPolicyViolation('x'.repeat(129), 'a@b.c'), /at most 128/)
})
