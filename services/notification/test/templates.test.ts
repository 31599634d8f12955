import t from 'tap'
import { formatMoney, inert, orderCancelled, welcome } from '../src/domain/templates.js'

t.test("money is formatted by the currency's own minor units", async (t) => {
  t.equal(formatMoney(6450n, 'EUR'), '€64.50')
  t.equal(formatMoney(1200n, 'JPY'), 'JP¥1,200', 'yen has no minor unit')
  t.match(formatMoney(12345n, 'KWD'), /^KWD\s12\.345$/, 'dinar has three')
  t.equal(formatMoney(199n, 'USD'), 'US$1.99')
})

t.test('text from users is inert in mails and SMS: one line, no links, no addresses', async (t) => {
  const names: Array<[string, string]> = [
    ['Ada Lovelace', 'Ada Lovelace'],
    ['J. R. R. Tolkien', 'J. R. R. Tolkien'],
    ["José Ñúñez-O'Brien 李", "José Ñúñez-O'Brien 李"],
    ['Win a prize at https://evil.example/claim', 'Win a prize at hxxps[:]//evil[.]example/claim'],
    ['visit www.evil.example now', 'visit www[.]evil[.]example now'],
    ['ｅｖｉｌ．ｅｘａｍｐｌｅ', 'evil[.]example'],
    ['mail me: bob@evil.example', 'mail me: bob[at]evil[.]example'],
    ['Ada\r\nBcc: victim@example.com', 'Ada Bcc: victim[at]example[.]com'],
    ['Ada\u202eevil\u200b', 'Ada evil'],
    ['<a href=x>click</a>', 'a href=x click /a'],
    ['shop at evil.xn--p1ai today', 'shop at evil[.]xn--p1ai today'],
    ['Ada\u0085Bcc\u2028x\u2029y', 'Ada Bcc x y']
  ]
  // Messages spell every character outside printable ASCII as \uXXXX (a raw U+2028 would break the TAP stream).
  const spelled = (text: string) => text.replace(/[^\x20-\x7e]/g, (c) => `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`)
  for (const [given, shown] of names) t.equal(inert(given), shown, spelled(given))
  t.equal([...inert('x'.repeat(500))].length, 100, 'bounded')

  const mail = welcome('Click https://evil.example\nX-Injected: 1')
  t.notMatch(mail.text, /https:\/\/|evil\.example|\nX-Injected/)
  t.notMatch(mail.sms, /https:\/\/|evil\.example/)
  const cancelled = orderCancelled('Ada', {
    orderId: 'a1b2c3d4',
    userId: 'u',
    items: [],
    reason: 'changed my mind, see http://evil.example',
    total: { amount: 100n, currency: 'EUR' }
  } as never)
  t.notMatch(cancelled.text, /http:\/\/|evil\.example/, 'the customer-written cancellation reason too')
})
