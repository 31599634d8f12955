import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { SMTPServer } from 'smtp-server'

/** Something tap's `t` provides: teardown hooks. */
interface Teardown {
  teardown(fn: () => unknown): void
}

export interface Mail {
  to: string[]
  raw: string
}

/** The mail as a person reads it: quoted-printable soft breaks and =XX bytes decoded. */
function decodeQuotedPrintable(raw: string): string {
  const joined = raw.replace(/=\r?\n/g, '')
  const bytes: number[] = []
  for (let i = 0; i < joined.length; i++) {
    const hex = joined[i] === '=' ? joined.slice(i + 1, i + 3) : ''
    if (/^[0-9A-F]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16))
      i += 2
    } else {
      bytes.push(...Buffer.from(joined[i] ?? ''))
    }
  }
  return Buffer.from(bytes).toString('utf8')
}

/**
 * How the SMTP server misbehaves, for fault tests: `refuse` answers every new session and every
 * MAIL FROM with 421 (service not available, a temporary failure); `stall` accepts the connection
 * and then never answers (the client's own timeouts must end the attempt).
 */
export type SmtpFault = 'refuse' | 'stall' | undefined

/** The Message-ID header of a raw mail, or undefined. */
export function messageIdOf(raw: string): string | undefined {
  return /^message-id:\s*(<[^>\r\n]+>)/im.exec(raw)?.[1]
}

/** A real SMTP server in the test: nodemailer holds a full SMTP conversation with it. */
export async function smtpInbox(t: Teardown, host = '127.0.0.1') {
  const mails: Mail[] = []
  let fault: SmtpFault
  const unavailable = () => Object.assign(new Error('service not available, try again later'), { responseCode: 421 })
  const misbehave = (callback: (error?: Error) => void) => {
    if (fault === 'refuse') callback(unavailable())
    else if (fault !== 'stall') callback()
    // stall: the callback is never called; the client times out.
  }
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onConnect(_session, callback) {
      misbehave(callback)
    },
    onMailFrom(_address, _session, callback) {
      misbehave(callback)
    },
    onData(stream, session, callback) {
      let raw = ''
      stream.on('data', (chunk: Buffer) => {
        raw += chunk.toString()
      })
      stream.on('end', () => {
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address), raw: decodeQuotedPrintable(raw) })
        callback()
      })
    }
  })
  // A client that goes away mid-conversation (a notification service killed in a fault test) is
  // an 'error' on the server: without a listener, it would end the test process.
  server.on('error', () => {})
  await new Promise<void>((resolve) => server.listen(0, host, resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return {
    mails,
    url: `smtp://${host}:${(server.server.address() as AddressInfo).port}`,
    /** Starts (or with undefined ends) a fault; connections already open meet it at their next mail. */
    setFault: (next: SmtpFault) => {
      fault = next
    }
  }
}

/** An SMS provider's webhook. */
export async function smsWebhook(t: Teardown, host = '127.0.0.1') {
  const calls: Array<{ to: string; text: string; idempotencyKey: string }> = []
  const server = createServer((request, response) => {
    let body = ''
    request.on('data', (chunk) => {
      body += chunk
    })
    request.on('end', () => {
      calls.push(JSON.parse(body))
      response.statusCode = 202
      response.end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, host, resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return { calls, url: `http://${host}:${(server.address() as AddressInfo).port}/sms` }
}
