// Load data over REST with loading and error states; `reload` refetches (after `recovered: false` too).
import { useCallback, useEffect, useRef, useState } from 'react'
import { ApiError } from './api'

export interface Resource<T> {
  data: T | undefined
  error: ApiError | null
  loading: boolean
  reload(): void
  setData(update: (current: T | undefined) => T | undefined): void
}

export function useResource<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]): Resource<T> {
  const [data, setDataState] = useState<T | undefined>(undefined)
  const [error, setError] = useState<ApiError | null>(null)
  const [loading, setLoading] = useState(true)
  const [version, setVersion] = useState(0)
  const loader = useRef(load)
  loader.current = load

  useEffect(() => {
    const controller = new AbortController()
    setLoading(true)
    loader
      .current(controller.signal)
      .then((value) => {
        if (controller.signal.aborted) return
        setDataState(value)
        setError(null)
      })
      .catch((reason: unknown) => {
        if (controller.signal.aborted) return
        setError(reason instanceof ApiError ? reason : new ApiError(0, 'error', String(reason)))
      })
      .finally(() => {
        if (!controller.signal.aborted) setLoading(false)
      })
    return () => controller.abort()
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, version])

  const reload = useCallback(() => setVersion((value) => value + 1), [])
  const setData = useCallback((update: (current: T | undefined) => T | undefined) => setDataState(update), [])
  return { data, error, loading, reload, setData }
}
