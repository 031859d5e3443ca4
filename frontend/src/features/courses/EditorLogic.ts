// Pure helpers of the course editor: lesson ordering and turning form values into request bodies.
import { ApiError } from '../../lib/api'
import type { Lesson, LessonInput } from '../lessons/api'
import type { LessonType, Level } from './api'
import type { CourseInput } from './EditorApi'

/** Lessons sorted as the server orders them (by `order`, ties by creation). */
export function sortLessons(lessons: Lesson[]): Lesson[] {
  return [...lessons].sort((a, b) => a.order - b.order || a.created_at.localeCompare(b.created_at))
}

/** The ids with the one at `index` moved by `delta` places; unchanged when the move leaves the list. */
export function moveId(ids: string[], index: number, delta: number): string[] {
  const target = index + delta
  if (index < 0 || index >= ids.length || target < 0 || target >= ids.length || delta === 0) return ids
  const next = [...ids]
  const [moved] = next.splice(index, 1)
  next.splice(target, 0, moved)
  return next
}

/** The lessons rearranged to follow `ids` (an optimistic reorder before the server answers). */
export function applyOrder(lessons: Lesson[], ids: string[]): Lesson[] {
  const byId = new Map(lessons.map((lesson) => [lesson.id, lesson]))
  return ids
    .flatMap((id) => byId.get(id) ?? [])
    .map((lesson, order) => ({ ...lesson, order }))
}

export interface CourseFormValues {
  title: string
  description: string
  category: string
  level: Level
  duration: string
  thumbnail_url: string
}

export function courseFormValues(course?: Partial<CourseInput>): CourseFormValues {
  return {
    title: course?.title ?? '',
    description: course?.description ?? '',
    category: course?.category ?? '',
    level: course?.level ?? 'Beginner',
    duration: course?.duration ?? '',
    thumbnail_url: course?.thumbnail_url ?? '',
  }
}

export function courseBody(values: CourseFormValues): CourseInput {
  return {
    title: values.title.trim(),
    description: values.description,
    category: values.category.trim(),
    level: values.level,
    duration: values.duration.trim(),
    // "" removes the thumbnail (null would leave it as it is); the server accepts http(s) URLs and /media/ paths.
    thumbnail_url: values.thumbnail_url.trim(),
  }
}

export interface LessonFormValues {
  title: string
  type: LessonType
  duration: string
  content: string
  notes: string
}

export function lessonFormValues(lesson?: Lesson): LessonFormValues {
  return {
    title: lesson?.title ?? '',
    type: lesson?.type ?? 'video',
    duration: lesson?.duration ?? '',
    content: lesson?.content ?? '',
    notes: lesson?.notes ?? '',
  }
}

/** The request body. The duration goes as written ("15:30", "10 min"). Editing `original`, a blank value
 * would keep what is stored, so emptying its content or notes asks the server to clear them. */
export function lessonBody(values: LessonFormValues, original?: Lesson): LessonInput {
  const content = values.type === 'video' ? values.content.trim() : values.content
  const notes = values.notes.trim() === '' ? null : values.notes
  const clear: Array<'content' | 'notes'> = []
  if (original?.content && content.trim() === '') clear.push('content')
  if (original?.notes && notes === null) clear.push('notes')
  return {
    title: values.title.trim(),
    type: values.type,
    duration: values.duration.trim(),
    content,
    notes,
    ...(clear.length > 0 ? { clear } : {}),
  }
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`
  return `${bytes} B`
}

/** A sentence for an upload failure (POST /api/upload), with the limit the server reported. */
export function uploadErrorMessage(error: unknown): string {
  if (!(error instanceof ApiError)) return error instanceof Error ? error.message : String(error)
  if (error.status === 413) {
    const limit = (error.details as { max_bytes?: unknown } | null)?.max_bytes
    return `The file is too large.${typeof limit === 'number' ? ` The limit is ${formatBytes(limit)}.` : ''}`
  }
  // 415: the server's message names the allowed types.
  if (error.status === 415) return error.message
  if (error.status === 503) return 'Media storage is unavailable right now. Try again in a moment.'
  return error.fieldMessage('file') ?? error.message
}
