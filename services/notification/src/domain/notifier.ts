import { type DecodedEvent, isEvent } from '@polyshop/events'
import { OrderStatus } from '@polyshop/proto'
import type { Collection, Db } from 'mongodb'
import type { Logger } from 'pino'
import type { EmailSender, SmsSender } from '../channels/channels.js'
import { type Message, orderCancelled, orderConfirmed, orderProgress, welcome } from './templates.js'

/** What the service knows of a user, learnt from user.events (it reads no other service's database). */
interface ContactDocument {
  _id: string
  email: string
  name: string
  phone: string | null
}

export type Channel = 'email' | 'sms'

export interface NotificationDocument {
  /** `${ce_id}:${channel}`: one notification per event and channel, ever. */
  _id: string
  eventId: string
  eventType: string
  channel: Channel
  recipient: string
  userId: string
  subject: string
  text: string
  state: 'sending' | 'sent'
  createdAt: Date
  sentAt: Date | null
}

/** An order event arrived before we learnt the user's contact: retried, then dead-lettered. */
export class UnknownContactError extends Error {
  override name = 'UnknownContactError'
}

/** How long a "sending" record may belong to an attempt still running before it is presumed dead. */
const STALE_SENDING_MS = 10_000

export class Notifier {
  readonly #contacts: Collection<ContactDocument>
  readonly #notifications: Collection<NotificationDocument>
  readonly #email: EmailSender
  readonly #sms: SmsSender
  readonly #log: Logger

  constructor(db: Db, email: EmailSender, sms: SmsSender, logger: Logger) {
    this.#contacts = db.collection<ContactDocument>('contacts')
    this.#notifications = db.collection<NotificationDocument>('notifications')
    this.#email = email
    this.#sms = sms
    this.#log = logger
  }

  get notifications(): Collection<NotificationDocument> {
    return this.#notifications
  }

  async ensureIndexes(): Promise<void> {
    await this.#notifications.createIndex({ recipient: 1, createdAt: -1 }, { name: 'by_recipient' })
    await this.#notifications.createIndex({ eventType: 1, createdAt: -1 }, { name: 'by_type' })
  }

  /** The consumer's handler: idempotent on the event id (see #deliver). */
  async handle(event: DecodedEvent): Promise<void> {
    if (isEvent(event, 'shop.user.registered.v1')) {
      const { userId, email, name, phone } = event.data
      await this.#contacts.replaceOne({ _id: userId }, { email, name, phone: phone ?? null }, { upsert: true })
      await this.#notify(event, { _id: userId, email, name, phone: phone ?? null }, welcome(name), false)
      return
    }
    if (isEvent(event, 'shop.user.profile_updated.v1')) {
      // The same key (the user id) as the registration: Kafka hands them over in order.
      const { userId, email, name, phone } = event.data
      await this.#contacts.replaceOne({ _id: userId }, { email, name, phone: phone ?? null }, { upsert: true })
      return
    }
    if (isEvent(event, 'shop.order.created.v1')) {
      const contact = await this.#contact(event.data.userId)
      await this.#notify(event, contact, orderConfirmed(contact.name, event.data), true)
      return
    }
    if (isEvent(event, 'shop.order.cancelled.v1')) {
      const contact = await this.#contact(event.data.userId)
      await this.#notify(event, contact, orderCancelled(contact.name, event.data), true)
      return
    }
    if (isEvent(event, 'shop.order.status_changed.v1')) {
      const status =
        event.data.status === OrderStatus.SHIPPED ? 'shipped' : event.data.status === OrderStatus.DELIVERED ? 'delivered' : undefined
      if (status === undefined) return // PAID and the like tell the customer nothing new
      const contact = await this.#contact(event.data.userId)
      await this.#notify(event, contact, orderProgress(contact.name, event.data.orderId, status), true)
    }
  }

  async #contact(userId: string): Promise<ContactDocument> {
    const contact = await this.#contacts.findOne({ _id: userId })
    if (contact === null) throw new UnknownContactError(`no contact details for user ${userId} yet`)
    return contact
  }

  async #notify(event: DecodedEvent, contact: ContactDocument, message: Message, withSms: boolean): Promise<void> {
    await this.#deliver(event, 'email', contact.email, contact._id, message, () =>
      this.#email.send({ to: contact.email, subject: message.subject, text: message.text, messageId: `<${event.id}.email@polyshop>` })
    )
    if (withSms && contact.phone !== null) {
      const phone = contact.phone
      await this.#deliver(event, 'sms', phone, contact._id, message, () =>
        this.#sms.send({ to: phone, text: message.sms, idempotencyKey: `${event.id}:sms` })
      )
    }
  }

  /**
   * Record first, then send. The record (unique per event and channel) is written before the
   * send and marked sent after it, so a redelivered event finds "sent" and sends nothing. If
   * the send fails the record is removed and the whole event is retried. If the process dies
   * between send and mark, the record stays "sending"; a redelivery waits until it is
   * STALE_SENDING_MS old (or turns "sent") and then sends again with the same Message-ID /
   * idempotency key, which mail clients and SMS providers use to drop the duplicate. That window is the only one where a second
   * delivery can happen, and no window loses a notification.
   */
  async #deliver(
    event: DecodedEvent,
    channel: Channel,
    recipient: string,
    userId: string,
    message: Message,
    send: () => Promise<void>
  ): Promise<void> {
    const id = `${event.id}:${channel}`
    const now = new Date()
    try {
      await this.#notifications.insertOne({
        _id: id,
        eventId: event.id,
        eventType: event.type,
        channel,
        recipient,
        userId,
        subject: message.subject,
        text: channel === 'sms' ? message.sms : message.text,
        state: 'sending',
        createdAt: now,
        sentAt: null
      })
    } catch (error) {
      if ((error as { code?: number }).code !== 11000) throw error
      for (;;) {
        const existing = await this.#notifications.findOne({ _id: id })
        // Gone: the other attempt failed and removed it; take it over from the start.
        if (existing === null) return await this.#deliver(event, channel, recipient, userId, message, send)
        if (existing.state === 'sent') return
        if (Date.now() - existing.createdAt.getTime() >= STALE_SENDING_MS) break
        await new Promise((resolve) => setTimeout(resolve, 500))
      }
      this.#log.warn({ id }, 'resending a notification whose earlier attempt never finished')
    }
    try {
      await send()
    } catch (error) {
      await this.#notifications.deleteOne({ _id: id, state: 'sending' })
      throw error
    }
    await this.#notifications.updateOne({ _id: id }, { $set: { state: 'sent', sentAt: new Date() } })
  }
}
