import { useEffect, useState } from 'react'
import { Button } from '../../components/ui'
import { googleUrl } from './api'

const STATE_KEY = 'learnflow.google_state'

/** "Continue with Google", shown only when the server has Google sign-in configured. */
export function GoogleButton() {
  const [url, setUrl] = useState<{ url: string; state: string } | null>(null)
  useEffect(() => {
    googleUrl()
      .then(setUrl)
      .catch(() => setUrl(null)) // 503 google_not_configured: no button
  }, [])
  if (!url) return null
  return (
    <Button
      variant="secondary"
      className="w-full"
      onClick={() => {
        sessionStorage.setItem(STATE_KEY, url.state)
        window.location.assign(url.url)
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
