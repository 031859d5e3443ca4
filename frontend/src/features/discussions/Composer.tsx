// A labelled form for a new post, a reply or an edit; reports typing (throttled by the caller).
import { useState, type FormEvent } from 'react'
import { Button, TextArea } from '../../components/ui'
import { ApiError } from '../../lib/api'

export interface ComposerProps {
  label: string
  submitLabel: string
  initial?: string
  /** Offer the "private" checkbox (new threads). */
  allowPrivate?: boolean
  disabled?: boolean
  testId?: string
  onTyping?(): void
  onSubmit(content: string, isPrivate: boolean): Promise<void>
  onCancel?(): void
}

export function Composer({ label, submitLabel, initial = '', allowPrivate = false, disabled = false, testId, onTyping, onSubmit, onCancel }: ComposerProps) {
  const [content, setContent] = useState(initial)
  const [isPrivate, setIsPrivate] = useState(false)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<ApiError | null>(null)

  async function submit(event: FormEvent) {
    event.preventDefault()
    if (!content.trim()) {
      setError(new ApiError(422, 'validation_error', 'Write something first.'))
      return
    }
    setBusy(true)
    setError(null)
    try {
      await onSubmit(content, isPrivate)
      setContent('')
      setIsPrivate(false)
    } catch (reason) {
      setError(reason instanceof ApiError ? reason : new ApiError(0, 'error', String(reason)))
    } finally {
      setBusy(false)
    }
  }

  return (
    <form data-testid={testId} onSubmit={(event) => void submit(event)} className="space-y-2">
      <TextArea
        label={label}
        value={content}
        rows={3}
        maxLength={5000}
        disabled={disabled || busy}
        error={error ? (error.fieldMessage('content') ?? error.message) : undefined}
        onChange={(event) => {
          setContent(event.target.value)
          if (event.target.value) onTyping?.()
        }}
      />
      <div className="flex flex-wrap items-center gap-3">
        <Button type="submit" disabled={disabled || busy}>
          {busy ? 'Sending…' : submitLabel}
        </Button>
        {onCancel && (
          <Button variant="ghost" onClick={onCancel} disabled={busy}>
            Cancel
          </Button>
        )}
        {allowPrivate && (
          <label className="flex items-center gap-2 text-sm">
            <input type="checkbox" checked={isPrivate} onChange={(event) => setIsPrivate(event.target.checked)} disabled={disabled || busy} className="h-4 w-4" />
            Private: only the instructor and admins see it
          </label>
        )}
      </div>
    </form>
  )
}
