import { useState, type FormEvent } from 'react'
import { Link, useNavigate } from 'react-router'
import { Button, Card, ErrorMessage, TextField } from '../../components/ui'
import { useSession } from '../../lib/session'
import { useAction } from '../../lib/useAction'
import { register, type Registration } from './api'
import { GoogleButton } from './GoogleButton'

const empty: Registration = { email: '', first_name: '', last_name: '', password: '' }

export default function RegisterPage() {
  const { signIn } = useSession()
  const navigate = useNavigate()
  const [form, setForm] = useState(empty)
  const { busy, error, run } = useAction()
  const set = (field: keyof Registration) => (event: { target: { value: string } }) =>
    setForm((current) => ({ ...current, [field]: event.target.value }))

  async function submit(event: FormEvent) {
    event.preventDefault()
    await run(async () => {
      await signIn(await register(form))
      navigate('/courses', { replace: true })
    })
  }

  return (
    <div className="mx-auto max-w-md">
      <h1 className="mb-4 text-2xl font-semibold">Create your account</h1>
      <Card>
        <form onSubmit={submit} className="space-y-4" noValidate>
          {error && <ErrorMessage error={error.status === 422 ? 'Please correct the fields below.' : error} />}
          <div className="grid gap-4 sm:grid-cols-2">
            <TextField label="First name" autoComplete="given-name" required value={form.first_name} onChange={set('first_name')} error={error?.fieldMessage('first_name')} autoFocus />
            <TextField label="Last name" autoComplete="family-name" required value={form.last_name} onChange={set('last_name')} error={error?.fieldMessage('last_name')} />
          </div>
          <TextField label="Email" type="email" autoComplete="email" required value={form.email} onChange={set('email')} error={error?.fieldMessage('email')} />
          <TextField
            label="Password"
            type="password"
            autoComplete="new-password"
            required
            value={form.password}
            onChange={set('password')}
            error={error?.fieldMessage('password')}
            hint="8 to 128 characters, with an upper-case letter, a lower-case letter and a digit."
          />
          <Button type="submit" className="w-full" disabled={busy}>
            {busy ? 'Creating…' : 'Create account'}
          </Button>
          <GoogleButton />
        </form>
      </Card>
      <p className="mt-4 text-center text-sm">
        Already have an account?{' '}
        <Link to="/login" className="font-medium text-indigo-600 underline dark:text-indigo-400">
          Sign in
        </Link>
      </p>
    </div>
  )
}
