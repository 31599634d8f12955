import { TransientEventError } from '@polyshop/events'
import nodemailer from 'nodemailer'
import type { Logger } from 'pino'

export interface Email {
  to: string
  subject: string
  text: string
  /** Stable per notification, so a resend after a crash is recognisable as the same mail. */
  messageId: string
}

export interface EmailSender {
  send(email: Email): Promise<void>
}

export interface SmsSender {
  send(sms: { to: string; text: string; idempotencyKey: string }): Promise<void>
}

/**
 * Email over SMTP (nodemailer), https://nodemailer.com/smtp/, on a pool of kept-open connections:
 * a new connection per mail (TCP, EHLO, perhaps TLS) would cost more than the mail. `pool` and
 * `maxConnections` in the URL's query override these defaults. A server that accepts the
 * connection and then stops answering fails the mail within seconds (nodemailer would otherwise
 * wait up to ten minutes, holding the event and its partition): the event is retried.
 */
export function smtpSender(
  url: string,
  from: string,
  options: { connections?: number; greetingTimeoutMs?: number; socketTimeoutMs?: number } = {}
): EmailSender & { close(): void } {
  const transport = nodemailer.createTransport({
    url,
    pool: true,
    maxConnections: options.connections ?? 4,
    connectionTimeout: 10_000,
    greetingTimeout: options.greetingTimeoutMs ?? 10_000,
    socketTimeout: options.socketTimeoutMs ?? 20_000
  })
  return {
    async send(email) {
      await transport.sendMail({ from, to: email.to, subject: email.subject, text: email.text, messageId: email.messageId })
    },
    close: () => transport.close()
  }
}

/** For local runs without a mail server: the email is written to the log only. */
export function logEmailSender(logger: Logger): EmailSender {
  return {
    async send(email) {
      logger.info({ to: email.to, subject: email.subject, text: email.text }, 'email (log only: SMTP_URL is not set)')
    }
  }
}

/** SMS through a provider's HTTP webhook: POST {to, text, idempotencyKey}, 2xx means accepted. */
export function webhookSmsSender(url: string, timeoutMs = 5000): SmsSender {
  return {
    async send(sms) {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': sms.idempotencyKey },
        body: JSON.stringify(sms),
        signal: AbortSignal.timeout(timeoutMs)
      })
      if (response.ok) return
      // The provider is overloaded or down: the event waits for it; any other answer is this message's problem.
      if (response.status >= 500 || response.status === 429) throw new TransientEventError(`SMS webhook answered ${response.status}`)
      throw new Error(`SMS webhook answered ${response.status}`)
    }
  }
}

/** For local runs without a provider: the SMS is written to the log only. */
export function logSmsSender(logger: Logger): SmsSender {
  return {
    async send(sms) {
      logger.info({ to: sms.to, text: sms.text }, 'SMS (log only: SMS_WEBHOOK_URL is not set)')
    }
  }
}
