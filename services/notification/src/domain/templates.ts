import type { EventData } from '@polyshop/events'

/** Minor units → "€64.50", "¥1,200", "1.234,50 €" by the currency's own decimals. */
export function formatMoney(amount: bigint | number, currency: string, locale = 'en-GB'): string {
  const format = new Intl.NumberFormat(locale, { style: 'currency', currency })
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2
  return format.format(Number(amount) / 10 ** digits)
}

type Items = EventData<'shop.order.created.v1'>['items']

function lines(items: Items): string {
  return items
    .map(
      (item) =>
        `  ${item.quantity} × ${item.name} — ${formatMoney(BigInt(item.quantity) * (item.unitPrice?.amount ?? 0n), item.unitPrice?.currency ?? 'EUR')}`
    )
    .join('\n')
}

function shortId(orderId: string): string {
  return orderId.slice(0, 8).toUpperCase()
}

const MAX_NAME_LENGTH = 100

/**
 * Text a user wrote (a name, a cancellation reason) made inert for a mail or an SMS: one line
 * without control or invisible formatting characters, compatibility forms folded (full-width
 * letters become plain ones first), and nothing a mail client would turn into a link — a scheme,
 * an address or a domain-like word is broken up visibly ("evil[.]example", "hxxps[:]//").
 */
export function inert(text: string, maxLength = MAX_NAME_LENGTH): string {
  const line = text
    .normalize('NFKC')
    .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\s<>]+/gu, ' ')
    .trim()
  const defanged = line
    .replace(/\bhttp(s?)/gi, 'hxxp$1')
    .replace(/:\/\//g, '[:]//')
    .replace(/@/g, '[at]')
    .replace(/[\p{L}\p{N}_-]+(?:\.[\p{L}\p{N}_-]+)+/gu, (word) =>
      /\.(?:\p{L}{2,}|xn--[\p{L}\p{N}-]+)$/iu.test(word) ? word.replaceAll('.', '[.]') : word
    )
  return [...defanged].length > maxLength ? `${[...defanged].slice(0, maxLength - 1).join('')}…` : defanged
}

export interface Message {
  subject: string
  text: string
  sms: string
}

export function welcome(userName: string): Message {
  const name = inert(userName)
  return {
    subject: 'Welcome to polyshop',
    text: `Hello ${name},\n\nyour polyshop account is ready. Happy shopping!\n\n— polyshop`,
    sms: `Welcome to polyshop, ${name}!`
  }
}

export function orderConfirmed(userName: string, order: EventData<'shop.order.created.v1'>): Message {
  const name = inert(userName)
  const total = formatMoney(order.total?.amount ?? 0n, order.total?.currency ?? 'EUR')
  return {
    subject: `Your polyshop order ${shortId(order.orderId)} is confirmed`,
    text: `Hello ${name},\n\nthank you for your order ${shortId(order.orderId)}:\n\n${lines(order.items)}\n\nTotal: ${total}\n\nWe will let you know when it ships.\n\n— polyshop`,
    sms: `polyshop: order ${shortId(order.orderId)} confirmed, total ${total}.`
  }
}

export function orderCancelled(userName: string, order: EventData<'shop.order.cancelled.v1'>): Message {
  const name = inert(userName)
  const reason = inert(order.reason, 200)
  const total = formatMoney(order.total?.amount ?? 0n, order.total?.currency ?? 'EUR')
  return {
    subject: `Your polyshop order ${shortId(order.orderId)} is cancelled`,
    text: `Hello ${name},\n\nyour order ${shortId(order.orderId)} is cancelled${reason === '' ? '' : ` (${reason})`}:\n\n${lines(order.items)}\n\nTotal: ${total}. Anything you paid for it will be refunded.\n\n— polyshop`,
    sms: `polyshop: order ${shortId(order.orderId)} cancelled.`
  }
}

export function orderProgress(userName: string, orderId: string, status: 'shipped' | 'delivered'): Message {
  const name = inert(userName)
  return {
    subject: `Your polyshop order ${shortId(orderId)} has ${status === 'shipped' ? 'shipped' : 'been delivered'}`,
    text: `Hello ${name},\n\nyour order ${shortId(orderId)} ${status === 'shipped' ? 'is on its way' : 'has been delivered. Enjoy!'}\n\n— polyshop`,
    sms: `polyshop: order ${shortId(orderId)} ${status}.`
  }
}
