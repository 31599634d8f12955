import { useEffect, useState } from 'preact/hooks'

/** A value the whole app shares (session, cart), with change notification. */
export class Store<T> {
  #value: T
  readonly #listeners = new Set<(value: T) => void>()

  constructor(value: T) {
    this.#value = value
  }

  get(): T {
    return this.#value
  }

  set(value: T): void {
    this.#value = value
    for (const listener of this.#listeners) listener(value)
  }

  subscribe(listener: (value: T) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }
}

/** The store's value, re-rendering the component when it changes. */
export function useStore<T>(store: Store<T>): T {
  const [value, setValue] = useState(store.get())
  useEffect(() => {
    setValue(store.get())
    return store.subscribe(setValue)
  }, [store])
  return value
}

/** A store kept in localStorage; `reload` reads what another tab may have written. */
export interface PersistedStore<T> extends Store<T> {
  reload(): T
}

/** JSON in localStorage, tolerant of a full or disabled storage (private windows) and of other tabs. */
export function persisted<T>(key: string, fallback: T, isValid: (value: unknown) => value is T): PersistedStore<T> {
  const read = (): T => {
    try {
      const text = localStorage.getItem(key)
      if (text === null) return fallback
      const value: unknown = JSON.parse(text)
      return isValid(value) ? value : fallback
    } catch {
      return fallback
    }
  }
  const store = new Store<T>(read()) as PersistedStore<T>
  store.reload = () => {
    const value = read()
    if (JSON.stringify(value) !== JSON.stringify(store.get())) store.set(value)
    return store.get()
  }
  store.subscribe((value) => {
    try {
      if (value === fallback) localStorage.removeItem(key)
      else localStorage.setItem(key, JSON.stringify(value))
    } catch {
      // Storage full or disabled: the value lives for this page only.
    }
  })
  window.addEventListener('storage', (event) => {
    if (event.key === key) store.reload()
  })
  return store
}
