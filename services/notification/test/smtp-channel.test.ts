// The SMTP channel against a real SMTP server that misbehaves: a refusal and a server that stops
// answering both fail the mail soon, as an outage (retried while it lasts, never dead-lettered).
import { isTransientFailure } from '@polyshop/events'
import { smtpInbox } from '@polyshop/testkit'
import t from 'tap'
import { smtpSender } from '../src/channels/channels.js'

const mail = (n: number) => ({ to: 'ada@example.com', subject: `mail ${n}`, text: 'hello', messageId: `<m-${n}@polyshop>` })

t.test('a server that stops answering fails the mail within the socket timeout, as an outage; then mail flows again', async (t) => {
  const inbox = await smtpInbox(t)
  const sender = smtpSender(inbox.url, 'shop@polyshop.local', { greetingTimeoutMs: 500, socketTimeoutMs: 500 })
  t.teardown(() => sender.close())
  await sender.send(mail(1))
  inbox.setFault('stall')
  const began = Date.now()
  const error = await sender.send(mail(2)).catch((failure: unknown) => failure)
  t.ok(error instanceof Error, 'the mail failed')
  t.ok(Date.now() - began < 5000, `within seconds (${Date.now() - began} ms), not nodemailer's ten minutes`)
  t.ok(isTransientFailure(error), `an outage: ${(error as Error).message}`)
  inbox.setFault(undefined)
  await sender.send(mail(3))
  t.same(
    inbox.mails.map((m) => /Subject: (mail \d)/.exec(m.raw)?.[1]),
    ['mail 1', 'mail 3']
  )
})

t.test('a 421 refusal is an outage too', async (t) => {
  const inbox = await smtpInbox(t)
  const sender = smtpSender(inbox.url, 'shop@polyshop.local')
  t.teardown(() => sender.close())
  inbox.setFault('refuse')
  const error = await sender.send(mail(1)).catch((failure: unknown) => failure)
  t.ok(isTransientFailure(error), `an outage: ${(error as Error).message}`)
  t.same(inbox.mails, [])
})
