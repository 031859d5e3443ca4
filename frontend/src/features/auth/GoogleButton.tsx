import { useEffect, useState } from 'react'
import { Button } from '../../components/ui'
import { googleUrl } from './api'

const STATE_KEY = 'learnflow.google_state'

/** "Continue with Google", shown only when the server has Google sign-in configured. Each click asks the
 * server for a fresh URL: that answer also sets the HttpOnly cookie binding the sign-in to this browser,
 * and the state is kept here to be compared when Google sends the browser back. */
export function GoogleButton() {
  const [available, setAvailable] = useState(false)
  const [busy, setBusy] = useState(false)
  useEffect(() => {
    googleUrl()
      .then(() => setAvailable(true))
      .catch(() => setAvailable(false)) // 503 google_not_configured: no button
  }, [])
  if (!available) return null
  return (
    <Button
      variant="secondary"
      className="w-full"
      disabled={busy}
      onClick={() => {
        setBusy(true)
        googleUrl()
          .then(({ url, state }) => {
            sessionStorage.setItem(STATE_KEY, state)
            window.location.assign(url)
          })
          .catch(() => setBusy(false))
      }}
    >
      Continue with Google
    </Button>
  )
}

export function takeGoogleState(): string | null {
  const state = sessionStorage.getItem(STATE_KEY)
  sessionStorage.removeItem(STATE_KEY)
  return state
}
