import { useCallback, useEffect, useState } from 'preact/hooks'
import { gql, messageOf } from './client.js'

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
