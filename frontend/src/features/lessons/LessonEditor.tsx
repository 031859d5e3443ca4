// Add or edit one lesson: title, type, content (a video URL or upload, or sanitized HTML), duration, notes.
import { useState, type FormEvent } from 'react'
import { Button, SelectField, TextArea, TextField } from '../../components/ui'
import { ApiError } from '../../lib/api'
import type { LessonType } from '../courses/api'
import { createLesson, updateLesson, type Lesson } from './api'
import { lessonBody, lessonFormValues, type LessonFormValues } from '../courses/EditorLogic'
import { LessonEditorUpload } from './LessonEditorUpload'

interface Props {
  courseId: number
  lesson?: Lesson
  onSaved(lesson: Lesson): void
  onCancel(): void
}

export function LessonEditor({ courseId, lesson, onSaved, onCancel }: Props) {
  const [values, setValues] = useState<LessonFormValues>(() => lessonFormValues(lesson))
  const [saving, setSaving] = useState(false)
  const [error, setError] = useState<ApiError | null>(null)
  const field = (name: keyof LessonFormValues) => error?.fieldMessage(name)
  const set = (name: keyof LessonFormValues) => (value: string) => setValues((current) => ({ ...current, [name]: value }))

  async function submit(event: FormEvent) {
    event.preventDefault()
    setSaving(true)
    setError(null)
    try {
      const body = lessonBody(values, lesson)
      onSaved(lesson ? await updateLesson(courseId, lesson.id, body) : await createLesson(courseId, body))
    } catch (reason) {
      setError(reason instanceof ApiError ? reason : new ApiError(0, 'error', String(reason)))
    } finally {
      setSaving(false)
    }
  }

  const unnamedError = error && !['title', 'type', 'content', 'duration', 'notes'].some((name) => error.fieldMessage(name))
  return (
    <form
      onSubmit={submit}
      aria-label={lesson ? `Edit lesson ${lesson.title}` : 'New lesson'}
      className="space-y-4 rounded-md border border-indigo-200 bg-indigo-50/40 p-4 dark:border-indigo-900 dark:bg-indigo-950/30"
      data-testid="lesson-editor"
    >
      <div className="grid gap-4 md:grid-cols-[1fr_10rem_10rem]">
        <TextField label="Lesson title" required maxLength={255} value={values.title} error={field('title')} onChange={(e) => set('title')(e.target.value)} />
        <SelectField label="Type" value={values.type} error={field('type')} onChange={(e) => set('type')(e.target.value as LessonType)}>
          <option value="video">Video</option>
          <option value="text">Text</option>
        </SelectField>
        <TextField
          label="Duration"
          type="text"
          placeholder="e.g. 15:30 or 10 min"
          maxLength={100}
          value={values.duration}
          error={field('duration')}
          onChange={(e) => set('duration')(e.target.value)}
        />
      </div>
      {values.type === 'video' ? (
        <div className="grid gap-4 md:grid-cols-2">
          <TextField
            label="Video URL"
            type="text"
            inputMode="url"
            placeholder="https://… or upload a file"
            value={values.content}
            error={field('content')}
            hint="An http(s) link, or upload a video and its address is filled in."
            onChange={(e) => set('content')(e.target.value)}
          />
          <LessonEditorUpload kind="video" label="Upload a video" disabled={saving} onUploaded={(media) => set('content')(media.url)} />
        </div>
      ) : (
        <TextArea
          label="Lesson text (HTML)"
          rows={10}
          value={values.content}
          error={field('content')}
          hint="HTML is allowed (headings, paragraphs, lists, links, code). The server removes scripts, styles and other unsafe markup when you save."
          onChange={(e) => set('content')(e.target.value)}
          className="mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 font-mono text-sm dark:border-slate-600 dark:bg-slate-900"
        />
      )}
      <TextArea label="Notes (optional)" rows={3} value={values.notes} error={field('notes')} onChange={(e) => set('notes')(e.target.value)} />
      {unnamedError && (
        <p role="alert" className="text-sm text-rose-600 dark:text-rose-400">
          {error.message}
        </p>
      )}
      <div className="flex gap-2">
        <Button type="submit" disabled={saving}>
          {saving ? 'Saving…' : lesson ? 'Save lesson' : 'Add lesson'}
        </Button>
        <Button variant="secondary" onClick={onCancel} disabled={saving}>
          Cancel
        </Button>
      </div>
    </form>
  )
}
