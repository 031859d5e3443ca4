// Filters + paging of one table: changing a filter goes back to the first page in the same update.
import { useCallback, useState } from 'react'

export interface ListState<F extends Record<string, string>> {
  filters: F
  skip: number
  limit: number
  setFilter(key: keyof F, value: string): void
  setSkip(skip: number): void
  setLimit(limit: number): void
  reset(): void
}

export function useListState<F extends Record<string, string>>(initial: F, initialLimit = 25): ListState<F> {
  const [state, setState] = useState({ filters: initial, skip: 0, limit: initialLimit })
  const setFilter = useCallback((key: keyof F, value: string) => {
    setState((current) =>
      current.filters[key] === value ? current : { ...current, filters: { ...current.filters, [key]: value }, skip: 0 },
    )
  }, [])
  const setSkip = useCallback((skip: number) => setState((current) => ({ ...current, skip })), [])
  const setLimit = useCallback((limit: number) => setState((current) => ({ ...current, limit, skip: 0 })), [])
  const reset = useCallback(() => setState((current) => ({ ...current, filters: initial, skip: 0 })), [initial])
  return { ...state, setFilter, setSkip, setLimit, reset }
}
