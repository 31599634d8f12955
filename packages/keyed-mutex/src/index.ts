/**
 * Runs work for the same key one at a time, within this process.
 *
 * Stock changes are conditional atomic updates (`stock >= n` → `$inc: -n`), which MongoDB
 * executes atomically across any number of replicas. FerretDB v1 does not: it reads, changes
 * the document in Go and writes it back, so two concurrent decrements can both pass the
 * condition. Serializing per product inside the process makes one replica correct on FerretDB
 * too (the tests), and costs MongoDB nothing but a queue per hot product.
 */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<unknown>>()

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve()
    const current = previous.then(work, work)
    const tail = current.catch(() => {})
    this.#tails.set(key, tail)
    try {
      return await current
    } finally {
      if (this.#tails.get(key) === tail) this.#tails.delete(key)
    }
  }

  /** Several keys, always taken in the same (sorted) order so two callers never deadlock. */
  async runAll<T>(keys: string[], work: () => Promise<T>): Promise<T> {
    const sorted = [...new Set(keys)].sort()
    const step = (index: number): Promise<T> =>
      index === sorted.length ? work() : this.run(sorted[index] as string, () => step(index + 1))
    return await step(0)
  }
}
