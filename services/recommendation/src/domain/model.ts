import type { PurchaseDocument } from './purchases.js'

export type RecommendationReason = 'BOUGHT_TOGETHER' | 'POPULAR_IN_YOUR_CATEGORIES' | 'SAME_CATEGORY' | 'POPULAR_NOW' | 'NEW_ARRIVAL'

export interface Candidate {
  productId: string
  /** Strength within its reason, in (0, 1]: 1 is the strongest candidate of that kind. */
  score: number
  reason: RecommendationReason
}

export interface ModelOptions {
  /** A purchase counts half as much towards popularity after this long. */
  halfLifeMs: number
  /** Purchases placed before now minus this are forgotten. */
  horizonMs: number
  now?: () => number
}

interface LearntOrder {
  userId: string
  items: PurchaseDocument['items']
  placedAt: number
  /** Counted in the model (placed, not cancelled, inside the horizon). */
  active: boolean
  /** The record's updatedAt: an older version arriving later (a slow read) is ignored. */
  version: number
}

/** Horizon / half-life bound: weights then stay below 2^(3 × 300), far from a double's 2^1024. */
const MAX_HALF_LIVES = 300

function increment<K>(map: Map<K, number>, key: K, by: number): void {
  const next = (map.get(key) ?? 0) + by
  // Cancelling the last order that counted a key removes it (floating point leaves crumbs).
  if (Math.abs(next) <= 1e-9 * Math.abs(by)) map.delete(key)
  else map.set(key, next)
}

function ranked(scores: Map<string, number>, reason: RecommendationReason, limit: number): Candidate[] {
  // A product whose every order was cancelled has nothing left to show for it.
  const top = [...scores]
    .filter(([, score]) => score > 0)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, limit)
  const best = top[0]?.[1] ?? 1
  return top.map(([productId, score]) => ({ productId, score: score / best, reason }))
}

/**
 * What the service has learnt from orders, held in memory and derived only from purchase records
 * (so applying a record twice, or in any replica, gives the same model): per-user purchase
 * history, item-to-item co-purchase counts (how many orders held both), popularity with
 * exponential time decay, and each product's category for category affinity.
 */
export class RecommendationModel {
  readonly #o: Required<ModelOptions>
  /** Popularity is stored as Σ quantity · 2^((placedAt − epoch) / halfLife): one number per product, decayed at read time by a common factor. */
  #epoch: number
  readonly #orders = new Map<string, LearntOrder>()
  readonly #together = new Map<string, Map<string, number>>()
  readonly #popularity = new Map<string, number>()
  readonly #history = new Map<string, Map<string, number>>()
  readonly #categories = new Map<string, string>()
  readonly #inCategory = new Map<string, Set<string>>()

  constructor(options: ModelOptions) {
    // Weights span 2^(horizon / halfLife) between the oldest and newest purchase: keep that well inside a double.
    if (options.horizonMs / options.halfLifeMs > MAX_HALF_LIVES) {
      throw new Error(`the history horizon may be at most ${MAX_HALF_LIVES} popularity half-lives`)
    }
    this.#o = { now: Date.now, ...options }
    this.#epoch = this.#o.now() - options.horizonMs
  }

  get orderCount(): number {
    let active = 0
    for (const order of this.#orders.values()) if (order.active) active += 1
    return active
  }

  /** Brings one purchase record into the model; idempotent, and a version older than the one applied changes nothing. */
  apply(purchase: PurchaseDocument): void {
    const placedAt = purchase.placedAt.getTime()
    const version = purchase.updatedAt.getTime()
    const active = !purchase.cancelled && purchase.items.length > 0 && placedAt >= this.#o.now() - this.#o.horizonMs
    const known = this.#orders.get(purchase._id)
    if (known !== undefined && version < known.version) return
    if (known?.active === active) {
      known.version = version
      return
    }
    if (known?.active === true) this.#count(known, -1)
    const order: LearntOrder = { userId: purchase.userId, items: purchase.items, placedAt, active, version }
    if (active) this.#count(order, +1)
    this.#orders.set(purchase._id, order)
  }

  /** Forgets orders placed before the horizon, and keeps popularity weights in range as time passes. */
  expire(): void {
    const horizon = this.#o.now() - this.#o.horizonMs
    if ((this.#o.now() - this.#epoch) / this.#o.halfLifeMs > 2 * MAX_HALF_LIVES) {
      // Move the epoch to the horizon: every stored sum scales by the same factor, so rankings are unchanged.
      const factor = 2 ** ((this.#epoch - horizon) / this.#o.halfLifeMs)
      for (const [productId, score] of this.#popularity) this.#popularity.set(productId, score * factor)
      this.#epoch = horizon
    }
    for (const [orderId, order] of this.#orders) {
      if (order.placedAt >= horizon) continue
      if (order.active) this.#count(order, -1)
      this.#orders.delete(orderId)
    }
  }

  categoryOf(productId: string): string | undefined {
    return this.#categories.get(productId)
  }

  /** What the user bought inside the horizon. */
  owned(userId: string): ReadonlySet<string> {
    return new Set(this.#history.get(userId)?.keys() ?? [])
  }

  /**
   * For a signed-in user: bought together with what they bought (not what they own), then
   * popular in their categories, then popular now. For a guest (no history): popular now.
   */
  forUser(userId: string | undefined, limit: number): Candidate[] {
    const history = userId === undefined ? undefined : this.#history.get(userId)
    const exclude = new Set(history?.keys() ?? [])
    const result: Candidate[] = []
    const take = (candidates: Candidate[]) => {
      for (const candidate of candidates) {
        if (result.length >= limit) return
        if (exclude.has(candidate.productId)) continue
        exclude.add(candidate.productId)
        result.push(candidate)
      }
    }
    if (history !== undefined) {
      const together = new Map<string, number>()
      for (const productId of history.keys()) {
        for (const [other, count] of this.#together.get(productId) ?? []) if (!exclude.has(other)) increment(together, other, count)
      }
      take(ranked(together, 'BOUGHT_TOGETHER', limit))

      const affinity = new Map<string, number>()
      for (const [productId, quantity] of history) {
        const category = this.#categories.get(productId)
        if (category !== undefined) increment(affinity, category, quantity)
      }
      const total = [...affinity.values()].reduce((sum, weight) => sum + weight, 0)
      const inCategories = new Map<string, number>()
      for (const [category, weight] of affinity) {
        for (const productId of this.#inCategory.get(category) ?? []) {
          if (!exclude.has(productId)) inCategories.set(productId, (weight / total) * (this.#popularity.get(productId) ?? 0))
        }
      }
      take(ranked(inCategories, 'POPULAR_IN_YOUR_CATEGORIES', limit))
    }
    take(this.popular(limit + exclude.size))
    return result
  }

  /** Bought together with the product, then popular in its category. */
  similarTo(productId: string, category: string | undefined, limit: number): Candidate[] {
    const together = ranked(new Map(this.#together.get(productId) ?? []), 'BOUGHT_TOGETHER', limit)
    const chosen = new Set([productId, ...together.map((c) => c.productId)])
    const sameCategory = new Map<string, number>()
    for (const other of category === undefined ? [] : (this.#inCategory.get(category) ?? [])) {
      if (!chosen.has(other)) sameCategory.set(other, this.#popularity.get(other) ?? 0)
    }
    return [...together, ...ranked(sameCategory, 'SAME_CATEGORY', limit)].slice(0, limit)
  }

  /** Most bought lately, recent purchases weighing more. */
  popular(limit: number): Candidate[] {
    return ranked(this.#popularity, 'POPULAR_NOW', limit)
  }

  #count(order: LearntOrder, sign: 1 | -1): void {
    const weight = 2 ** ((order.placedAt - this.#epoch) / this.#o.halfLifeMs)
    const history = this.#history.get(order.userId) ?? new Map<string, number>()
    this.#history.set(order.userId, history)
    const products = [...new Set(order.items.map((item) => item.productId))]
    for (const item of order.items) {
      increment(this.#popularity, item.productId, sign * item.quantity * weight)
      increment(history, item.productId, sign * item.quantity)
      if (item.category !== null) {
        this.#categories.set(item.productId, item.category)
        const members = this.#inCategory.get(item.category) ?? new Set<string>()
        members.add(item.productId)
        this.#inCategory.set(item.category, members)
      }
    }
    if (history.size === 0) this.#history.delete(order.userId)
    for (const a of products) {
      for (const b of products) {
        if (a === b) continue
        const row = this.#together.get(a) ?? new Map<string, number>()
        increment(row, b, sign)
        if (row.size === 0) this.#together.delete(a)
        else this.#together.set(a, row)
      }
    }
  }
}
