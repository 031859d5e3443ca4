// One user action at a time (a form submit, a button): busy while it runs, then the error it failed with.
import { useState } from 'react'
import { ApiError } from './api'

/** Any failure as an ApiError (status 0 when it did not come from the server). */
export function toApiError(reason: unknown): ApiError {
  return reason instanceof ApiError ? reason : new ApiError(0, 'error', String(reason))
}

export interface Action<E> {
  busy: boolean
  error: E | null
  setError(error: E | null): void
  /** Runs `action`; resolves true when it succeeded, false when it failed (the error is then set). */
  run(action: () => Promise<void>): Promise<boolean>
}

export function useAction<E = ApiError>(toError: (reason: unknown) => E = toApiError as (reason: unknown) => E): Action<E> {
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<E | null>(null)

  async function run(action: () => Promise<void>): Promise<boolean> {
    setBusy(true)
    setError(null)
    try {
      await action()
      return true
    } catch (reason) {
      setError(toError(reason))
      return false
    } finally {
      setBusy(false)
    }
  }

  return { busy, error, setError, run }
}
