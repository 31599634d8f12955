import type { Money } from './api/types.js'

const formats = new Map<string, Intl.NumberFormat>()

function formatFor(currency: string): Intl.NumberFormat {
  let format = formats.get(currency)
  if (format === undefined) {
    format = new Intl.NumberFormat(navigator.language || 'en', { style: 'currency', currency })
    formats.set(currency, format)
  }
  return format
}

/** Minor units per major unit: 100 for EUR, 1 for JPY. */
export function minorUnits(currency: string): number {
  return 10 ** (formatFor(currency).resolvedOptions().maximumFractionDigits ?? 2)
}

/** { amount: 1999, currency: 'EUR' } → "€19.99" (in the reader's locale). */
export function formatMoney(money: Money): string {
  return formatFor(money.currency).format(money.amount / minorUnits(money.currency))
}

/** "19.99" or "19,99" → 1999 minor units; undefined when it is not an amount. */
export function parseAmount(text: string, currency: string): number | undefined {
  const normalized = text.trim().replace(/\s/g, '').replace(',', '.')
  if (!/^\d+(\.\d+)?$/.test(normalized)) return undefined
  const minor = Math.round(Number(normalized) * minorUnits(currency))
  return Number.isSafeInteger(minor) ? minor : undefined
}

/** Major units as an input shows them: 1999 → "19.99". */
export function amountText(money: Money): string {
  const units = minorUnits(money.currency)
  return (money.amount / units).toFixed(Math.round(Math.log10(units)))
}

/** Totals per currency (an order is in one currency; a cart could mix them). */
export function totals(lines: ReadonlyArray<{ price: Money; quantity: number }>): Money[] {
  const sums = new Map<string, number>()
  for (const line of lines) sums.set(line.price.currency, (sums.get(line.price.currency) ?? 0) + line.price.amount * line.quantity)
  return [...sums].map(([currency, amount]) => ({ amount, currency }))
}
