import { useState, type FormEvent } from 'react'
import { Link, useNavigate, useSearchParams } from 'react-router'
import { Button, Card, ErrorMessage, TextField } from '../../components/ui'
import { useSession } from '../../lib/session'
import { useAction } from '../../lib/useAction'
import { login, safeNext } from './api'
import { GoogleButton } from './GoogleButton'

export default function LoginPage() {
  const { signIn } = useSession()
  const navigate = useNavigate()
  const [params] = useSearchParams()
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const { busy, error, run } = useAction()

  async function submit(event: FormEvent) {
    event.preventDefault()
    await run(async () => {
      await signIn(await login(email, password))
      navigate(safeNext(params.get('next')), { replace: true })
    })
  }

  return (
    <div className="mx-auto max-w-sm">
      <h1 className="mb-4 text-2xl font-semibold">Sign in</h1>
      <Card>
        <form onSubmit={submit} className="space-y-4" noValidate>
          {error && error.status !== 422 && <ErrorMessage error={error} />}
          <TextField label="Email" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} error={error?.fieldMessage('email')} autoFocus />
          <TextField label="Password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} error={error?.fieldMessage('password')} />
          <Button type="submit" className="w-full" disabled={busy}>
            {busy ? 'Signing in…' : 'Sign in'}
          </Button>
          <GoogleButton />
        </form>
      </Card>
      <p className="mt-4 text-center text-sm">
        New here?{' '}
        <Link to="/register" className="font-medium text-indigo-600 underline dark:text-indigo-400">
          Create an account
        </Link>
      </p>
    </div>
  )
}
