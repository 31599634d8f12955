import { useCallback, useEffect, useRef, useState } from 'preact/hooks'
import { gql, messageOf } from './client.js'
import type { Page } from './types.js'

export interface QueryState<T> {
  data: T | undefined
  /** A message for the shopper. */
  error: string | undefined
  loading: boolean
  reload: () => void
}

/** Runs a query when the component shows and whenever `key` changes; a stale answer never overwrites a newer one. */
export function useQuery<T>(query: string, variables: object | undefined, key: string): QueryState<T> {
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: true })
  const [attempt, setAttempt] = useState(0)
  useEffect(() => {
    let current = true
    setState((previous) => ({ ...previous, loading: true, error: undefined }))
    gql<T>(query, variables).then(
      (data) => current && setState({ data, loading: false }),
      (error: unknown) => current && setState({ error: messageOf(error), loading: false })
    )
    return () => {
      current = false
    }
  }, [query, key, attempt])
  const reload = useCallback(() => setAttempt((n) => n + 1), [])
  return { data: state.data, error: state.error, loading: state.loading, reload }
}

/** A mutation's state: `run` resolves to the result, or to undefined after showing the error. */
export function useMutation<T, V extends object>(mutation: string) {
  const [state, setState] = useState<{ running: boolean; error?: string }>({ running: false })
  const run = useCallback(
    async (variables: V): Promise<T | undefined> => {
      setState({ running: true })
      try {
        const data = await gql<T>(mutation, variables)
        setState({ running: false })
        return data
      } catch (error) {
        setState({ running: false, error: messageOf(error) })
        return undefined
      }
    },
    [mutation]
  )
  return { run, running: state.running, error: state.error, clearError: () => setState({ running: false }) }
}

export interface PagesState<T> {
  items: T[]
  /** Where the next page starts; null at the end. */
  cursor: string | null
  loading: boolean
  /** A message for the shopper. */
  error: string | undefined
  /** Loads the next page. */
  more: () => void
  /** After an error: loads again the page that failed. */
  retry: () => void
  /** Puts a changed item where the one with its id is. */
  replace: (item: T) => void
  /** Changes some fields of the item with this id, if it is shown. */
  patch: (id: string, fields: Partial<T>) => void
  /** Reads the first page again in the background: shown items take its fresh state, new ones go on top. */
  refresh: () => void
}

/** A list loaded a page at a time; a new `key` starts over, and a stale answer never lands. */
export function usePages<T extends { id: string }>(fetchPage: (after: string | null) => Promise<Page<T>>, key: string): PagesState<T> {
  const [items, setItems] = useState<T[]>([])
  const [cursor, setCursor] = useState<string | null>(null)
  const [state, setState] = useState<{ loading: boolean; error?: string }>({ loading: true })
  const generation = useRef(0)
  const load = async (after: string | null) => {
    const mine = ++generation.current
    setState({ loading: true })
    try {
      const page = await fetchPage(after)
      if (mine !== generation.current) return
      setItems((previous) => (after === null ? page.items : [...previous, ...page.items]))
      setCursor(page.nextCursor)
      setState({ loading: false })
    } catch (error) {
      if (mine === generation.current) setState({ loading: false, error: messageOf(error) })
    }
  }
  // A new key starts over.
  useEffect(() => {
    setItems([])
    setCursor(null)
    void load(null)
  }, [key])
  return {
    items,
    cursor,
    loading: state.loading,
    error: state.error,
    more: () => void load(cursor),
    retry: () => void load(items.length === 0 ? null : cursor),
    replace: (item) => setItems((previous) => previous.map((other) => (other.id === item.id ? item : other))),
    patch: (id, fields) => setItems((previous) => previous.map((item) => (item.id === id ? { ...item, ...fields } : item))),
    refresh: () => {
      fetchPage(null).then(
        (page) =>
          setItems((previous) => {
            const fresh = new Map(page.items.map((item) => [item.id, item]))
            const shown = new Set(previous.map((item) => item.id))
            return [...page.items.filter((item) => !shown.has(item.id)), ...previous.map((item) => fresh.get(item.id) ?? item)]
          }),
        // A background refresh: the list stays as it was, the next one may work.
        () => {}
      )
    }
  }
}
