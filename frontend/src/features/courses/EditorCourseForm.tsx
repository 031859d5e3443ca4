// The course's own fields, with a thumbnail uploaded through /api/upload. Field errors of a 422 sit under
// their fields; anything else is shown above the buttons.
import { useId, useState, type FormEvent } from 'react'
import { Button, SelectField, TextArea, TextField } from '../../components/ui'
import { ApiError } from '../../lib/api'
import { useResource } from '../../lib/useResource'
import { LessonEditorUpload } from '../lessons/LessonEditorUpload'
import { LEVELS, listCategories, type Level } from './api'
import type { CourseInput } from './EditorApi'
import { courseBody, courseFormValues, type CourseFormValues } from './EditorLogic'

const FIELDS: (keyof CourseFormValues)[] = ['title', 'description', 'category', 'level', 'duration', 'thumbnail_url']

interface Props {
  initial?: Partial<CourseInput>
  submitLabel: string
  onSubmit(body: CourseInput): Promise<void>
}

export function EditorCourseForm({ initial, submitLabel, onSubmit }: Props) {
  const [values, setValues] = useState<CourseFormValues>(() => courseFormValues(initial))
  const [saving, setSaving] = useState(false)
  const [error, setError] = useState<ApiError | null>(null)
  const [saved, setSaved] = useState(false)
  const known = useResource((signal) => listCategories(signal).catch(() => []), [])
  const listId = useId()
  const field = (name: keyof CourseFormValues) => error?.fieldMessage(name)
  const set = (name: keyof CourseFormValues) => (value: string) => {
    setSaved(false)
    setValues((current) => ({ ...current, [name]: value }))
  }

  async function submit(event: FormEvent) {
    event.preventDefault()
    setSaving(true)
    setError(null)
    setSaved(false)
    try {
      await onSubmit(courseBody(values))
      setSaved(true)
    } catch (reason) {
      setError(reason instanceof ApiError ? reason : new ApiError(0, 'error', String(reason)))
    } finally {
      setSaving(false)
    }
  }

  const unnamedError = error && !FIELDS.some((name) => error.fieldMessage(name))
  const thumbnail = values.thumbnail_url.trim()
  return (
    <form onSubmit={submit} aria-label="Course details" className="space-y-4">
      <TextField label="Title" required maxLength={200} value={values.title} error={field('title')} onChange={(e) => set('title')(e.target.value)} />
      <TextArea label="Description" rows={5} maxLength={20000} value={values.description} error={field('description')} onChange={(e) => set('description')(e.target.value)} />
      <div className="grid gap-4 md:grid-cols-3">
        <TextField
          label="Category"
          required
          maxLength={100}
          list={listId}
          value={values.category}
          error={field('category')}
          onChange={(e) => set('category')(e.target.value)}
        />
        <datalist id={listId}>
          {(known.data ?? []).map((category) => (
            <option key={category.name} value={category.name} />
          ))}
        </datalist>
        <SelectField label="Level" value={values.level} error={field('level')} onChange={(e) => set('level')(e.target.value as Level)}>
          {LEVELS.map((level) => (
            <option key={level} value={level}>
              {level}
            </option>
          ))}
        </SelectField>
        <TextField
          label="Duration"
          placeholder="e.g. 4 weeks"
          maxLength={100}
          value={values.duration}
          error={field('duration')}
          onChange={(e) => set('duration')(e.target.value)}
        />
      </div>
      <div className="grid gap-4 md:grid-cols-[1fr_1fr_8rem] md:items-start">
        <TextField
          label="Thumbnail URL"
          type="text"
          inputMode="url"
          placeholder="https://… or upload an image"
          value={values.thumbnail_url}
          error={field('thumbnail_url')}
          onChange={(e) => set('thumbnail_url')(e.target.value)}
        />
        <LessonEditorUpload kind="image" label="Upload a thumbnail" disabled={saving} onUploaded={(media) => set('thumbnail_url')(media.url)} />
        {thumbnail ? (
          <img src={thumbnail} alt="Thumbnail preview" className="h-20 w-32 rounded-md border border-slate-200 object-cover dark:border-slate-700" />
        ) : (
          <div className="flex h-20 w-32 items-center justify-center rounded-md border border-dashed border-slate-300 text-xs text-slate-500 dark:border-slate-700">
            No thumbnail
          </div>
        )}
      </div>
      {unnamedError && (
        <p role="alert" className="text-sm text-rose-600 dark:text-rose-400">
          {error.message}
        </p>
      )}
      <div className="flex items-center gap-3">
        <Button type="submit" disabled={saving}>
          {saving ? 'Saving…' : submitLabel}
        </Button>
        <span aria-live="polite" className="text-sm text-emerald-700 dark:text-emerald-400">
          {saved ? 'Saved.' : ''}
        </span>
      </div>
    </form>
  )
}
