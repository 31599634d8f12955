import t from 'tap'
import { formatMoney } from '../src/domain/templates.js'

t.test("money is formatted by the currency's own minor units", async (t) => {
  t.equal(formatMoney(6450n, 'EUR'), '€64.50')
  t.equal(formatMoney(1200n, 'JPY'), 'JP¥1,200', 'yen has no minor unit')
  t.match(formatMoney(12345n, 'KWD'), /^KWD\s12\.345$/, 'dinar has three')
  t.equal(formatMoney(199n, 'USD'), 'US$1.99')
})
