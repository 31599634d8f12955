/**
 * Search without $text (FerretDB v1 has none): each product stores the normalized words of
 * its name, category, description and attributes, plus their prefixes, in a multikey-indexed
 * array; a query matches products that have every query word, and the service ranks them.
 */
const MIN_PREFIX = 3
const MAX_QUERY_WORDS = 8

export function words(text: string): string[] {
  return text
    .normalize('NFKD')
    .replace(/\p{Diacritic}/gu, '')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word.length > 0)
}

export interface Searchable {
  name: string
  description: string
  category: string
  attributes: Record<string, string>
}

export function keywordsFor(product: Searchable): string[] {
  const all = new Set<string>()
  const text = [product.name, product.category, product.description, ...Object.values(product.attributes)].join(' ')
  for (const word of words(text)) {
    all.add(word)
    for (let length = MIN_PREFIX; length < word.length; length++) all.add(word.slice(0, length))
  }
  return [...all]
}

/** The words of a query that can match (one-letter words match too much to mean anything). */
export function queryWords(q: string): string[] {
  return [...new Set(words(q).filter((word) => word.length >= 2))].slice(0, MAX_QUERY_WORDS)
}

/** Name beats category beats description; a whole word beats a prefix. */
export function relevance(product: Searchable, query: string[]): number {
  const fields: Array<[string[], number]> = [
    [words(product.name), 8],
    [words(product.category), 4],
    [words(Object.values(product.attributes).join(' ')), 2],
    [words(product.description), 1]
  ]
  let score = 0
  for (const term of query) {
    for (const [fieldWords, weight] of fields) {
      if (fieldWords.includes(term)) score += weight * 2
      else if (fieldWords.some((word) => word.startsWith(term))) score += weight
    }
  }
  return score
}
