import { useEffect, useRef, useState } from 'react'
import { Link, useNavigate, useSearchParams } from 'react-router'
import { ErrorMessage, Spinner } from '../../components/ui'
import { useSession } from '../../lib/session'
import { googleCallback } from './api'
import { takeGoogleState } from './GoogleButton'

/** Google redirects here with ?code&state; the server checks the signed state, its cookie and the code. */
export default function GoogleCallbackPage() {
  const [params] = useSearchParams()
  const { signIn } = useSession()
  const navigate = useNavigate()
  const [error, setError] = useState<unknown>(null)
  const started = useRef(false)

  useEffect(() => {
    if (started.current) return // StrictMode runs effects twice; a code can be used once
    started.current = true
    const code = params.get('code')
    const state = params.get('state')
    const expected = takeGoogleState()
    // Only a sign-in this tab started is finished: no stored state (a link someone else made) or a
    // different one is refused here, and the server checks its cookie-bound nonce as well.
    if (!code || !state || expected === null || expected !== state) {
      setError(new Error(params.get('error') ?? 'Google sign-in was cancelled or is invalid.'))
      return
    }
    googleCallback(code, state)
      .then(signIn)
      .then(() => navigate('/dashboard', { replace: true }))
      .catch(setError)
  }, [params, signIn, navigate])

  if (!error) return <Spinner label="Signing in with Google…" />
  return (
    <div className="mx-auto max-w-md space-y-4">
      <ErrorMessage error={error} />
      <Link to="/login" className="text-indigo-600 underline">
        Back to sign in
      </Link>
    </div>
  )
}
