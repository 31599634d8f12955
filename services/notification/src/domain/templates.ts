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

export interface Message {
  subject: string
  text: string
  sms: string
}

export function welcome(name: string): Message {
  return {
    subject: 'Welcome to polyshop',
    text: `Hello ${name},\n\nyour polyshop account is ready. Happy shopping!\n\n— polyshop`,
    sms: `Welcome to polyshop, ${name}!`
  }
}

export function orderConfirmed(name: string, order: EventData<'shop.order.created.v1'>): Message {
  const total = formatMoney(order.total?.amount ?? 0n, order.total?.currency ?? 'EUR')
  return {
    subject: `Your polyshop order ${shortId(order.orderId)} is confirmed`,
    text: `Hello ${name},\n\nthank you for your order ${shortId(order.orderId)}:\n\n${lines(order.items)}\n\nTotal: ${total}\n\nWe will let you know when it ships.\n\n— polyshop`,
    sms: `polyshop: order ${shortId(order.orderId)} confirmed, total ${total}.`
  }
}

export function orderCancelled(name: string, order: EventData<'shop.order.cancelled.v1'>): Message {
  const total = formatMoney(order.total?.amount ?? 0n, order.total?.currency ?? 'EUR')
  return {
    subject: `Your polyshop order ${shortId(order.orderId)} is cancelled`,
    text: `Hello ${name},\n\nyour order ${shortId(order.orderId)} is cancelled${order.reason === '' ? '' : ` (${order.reason})`}:\n\n${lines(order.items)}\n\nTotal: ${total}. Anything you paid for it will be refunded.\n\n— polyshop`,
    sms: `polyshop: order ${shortId(order.orderId)} cancelled.`
  }
}

export function orderProgress(name: string, orderId: string, status: 'shipped' | 'delivered'): Message {
  return {
    subject: `Your polyshop order ${shortId(orderId)} has ${status === 'shipped' ? 'shipped' : 'been delivered'}`,
    text: `Hello ${name},\n\nyour order ${shortId(orderId)} ${status === 'shipped' ? 'is on its way' : 'has been delivered. Enjoy!'}\n\n— polyshop`,
    sms: `polyshop: order ${shortId(orderId)} ${status}.`
  }
}
