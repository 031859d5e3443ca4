// The signed-in user's profile: name and avatar (PUT /api/auth/profile), password (PUT /api/auth/password).
import { useState, type FormEvent } from 'react'
import { Button, Card, ErrorMessage, PageHeader, Spinner, TextField, formatDate } from '../../components/ui'
import { ApiError } from '../../lib/api'
import { useAction } from '../../lib/useAction'
import { api } from '../../lib/client'
import { useSession } from '../../lib/session'
import type { User } from '../../lib/types'

/** A form's submission that says "done" once it succeeded. */
function useSubmission() {
  const action = useAction()
  const [done, setDone] = useState(false)

  async function run(body: () => Promise<void>) {
    setDone(false)
    if (await action.run(body)) setDone(true)
  }

  return { ...action, done, setDone, run }
}

function ProfileForm({ user, onSaved }: { user: User; onSaved(): Promise<void> }) {
  const [firstName, setFirstName] = useState(user.first_name)
  const [lastName, setLastName] = useState(user.last_name)
  const [avatarUrl, setAvatarUrl] = useState(user.avatar_url ?? '')
  const { error, done: saved, busy, run } = useSubmission()
  const blocked = user.is_blocked

  async function submit(event: FormEvent) {
    event.preventDefault()
    await run(async () => {
      await api.put<User>('/api/auth/profile', {
        first_name: firstName.trim(),
        last_name: lastName.trim(),
        // An empty field removes the avatar.
        avatar_url: avatarUrl.trim() || null,
      })
      await onSaved()
    })
  }

  return (
    <Card>
      <h2 className="mb-4 text-lg font-semibold">Profile</h2>
      {blocked && (
        <p role="status" className="mb-4 rounded-md border border-amber-300 bg-amber-50 p-3 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-200">
          Your account is blocked: you can read, but you cannot change your profile. Contact an administrator.
        </p>
      )}
      <form onSubmit={(event) => void submit(event)} className="space-y-4" noValidate>
        <fieldset disabled={blocked || busy} className="space-y-4">
          {error && error.status !== 422 && <ErrorMessage error={error} />}
          <div className="grid gap-4 md:grid-cols-2">
            <TextField label="First name" autoComplete="given-name" required maxLength={100} value={firstName} onChange={(e) => setFirstName(e.target.value)} error={error?.fieldMessage('first_name')} />
            <TextField label="Last name" autoComplete="family-name" required maxLength={100} value={lastName} onChange={(e) => setLastName(e.target.value)} error={error?.fieldMessage('last_name')} />
          </div>
          <div className="flex items-end gap-4">
            <div className="flex-1">
              <TextField
                label="Avatar URL"
                type="url"
                inputMode="url"
                placeholder="https://…"
                hint="An http(s) link to an image; leave empty for none."
                value={avatarUrl}
                onChange={(e) => setAvatarUrl(e.target.value)}
                error={error?.fieldMessage('avatar_url')}
              />
            </div>
            {user.avatar_url && <img src={user.avatar_url} alt="Your current avatar" className="mb-1 h-12 w-12 rounded-full object-cover" />}
          </div>
          {error?.status === 422 && !error.fieldMessage('first_name') && !error.fieldMessage('last_name') && !error.fieldMessage('avatar_url') && <ErrorMessage error={error} />}
          <div className="flex items-center gap-3">
            <Button type="submit">{busy ? 'Saving…' : 'Save profile'}</Button>
            {saved && (
              <span role="status" className="text-sm text-emerald-700 dark:text-emerald-400">
                Saved.
              </span>
            )}
          </div>
        </fieldset>
      </form>
    </Card>
  )
}

function PasswordForm() {
  const [current, setCurrent] = useState('')
  const [next, setNext] = useState('')
  const [confirm, setConfirm] = useState('')
  const { error, setError, done, setDone, busy, run } = useSubmission()

  async function submit(event: FormEvent) {
    event.preventDefault()
    if (next !== confirm) {
      setDone(false)
      setError(new ApiError(422, 'validation_error', 'The passwords do not match.', [{ field: 'confirm', message: 'The passwords do not match.' }]))
      return
    }
    await run(async () => {
      await api.put('/api/auth/password', { current_password: current, new_password: next })
      setCurrent('')
      setNext('')
      setConfirm('')
    })
  }

  return (
    <Card>
      <h2 className="mb-4 text-lg font-semibold">Change password</h2>
      <form onSubmit={(event) => void submit(event)} className="space-y-4" noValidate>
        {error && error.status !== 422 && <ErrorMessage error={error} />}
        <TextField label="Current password" type="password" autoComplete="current-password" required value={current} onChange={(e) => setCurrent(e.target.value)} error={error?.fieldMessage('current_password')} />
        <TextField
          label="New password"
          type="password"
          autoComplete="new-password"
          required
          minLength={8}
          hint="8–128 characters with an upper-case letter, a lower-case letter and a digit."
          value={next}
          onChange={(e) => setNext(e.target.value)}
          error={error?.fieldMessage('new_password')}
        />
        <TextField label="Repeat the new password" type="password" autoComplete="new-password" required value={confirm} onChange={(e) => setConfirm(e.target.value)} error={error?.fieldMessage('confirm')} />
        <div className="flex flex-wrap items-center gap-3">
          <Button type="submit" disabled={busy}>
            {busy ? 'Changing…' : 'Change password'}
          </Button>
          {done && (
            <span role="status" className="text-sm text-emerald-700 dark:text-emerald-400">
              Password changed. You stay signed in here; your other sessions were signed out.
            </span>
          )}
        </div>
      </form>
    </Card>
  )
}

export default function ProfilePage() {
  const { user, reload } = useSession()
  if (!user) return <Spinner />
  return (
    <>
      <PageHeader title="Your profile">
        {user.email} · <span className="capitalize">{user.role}</span> · member since {formatDate(user.created_at)}
      </PageHeader>
      <div className="grid gap-6 md:grid-cols-2">
        <ProfileForm key={user.id} user={user} onSaved={reload} />
        <PasswordForm />
      </div>
    </>
  )
}
