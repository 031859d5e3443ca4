// Lesson shapes (LessonPublic, HeartbeatAccepted in /api/openapi.json) and the calls of the player and the editor.
import { api } from '../../lib/client'
import type { LessonType } from '../courses/api'
import type { Progress } from '../learning/api'

export interface Lesson {
  id: string
  course_id: number
  title: string
  type: LessonType
  /** As the author gave it: "15:30", "10 min", … ("" when none was given). */
  duration: string
  /** Whole minutes, when `duration` can be read as a length. */
  duration_minutes: number | null
  /** text: HTML sanitized by the server (nh3); video: an http(s) URL or a /media/ path. Null in a course
   * page's lessons for callers who may not open them. */
  content: string | null
  /** HTML sanitized by the server (nh3), or null. */
  notes: string | null
  order: number
  created_at: string
  updated_at: string
}

/** The body of POST /api/courses/{id}/lessons (LessonCreate); PUT takes any subset. A blank value in a
 * PUT keeps what is stored; `clear` erases content or notes. */
export interface LessonInput {
  title: string
  type: LessonType
  duration: string
  content: string
  notes: string | null
  clear?: Array<'content' | 'notes'>
}

/** "Video · 15:30": the lesson's kind and its duration as the author wrote it. */
export function lessonKind(lesson: Pick<Lesson, 'type' | 'duration'>, video = 'Video', text = 'Reading'): string {
  const kind = lesson.type === 'video' ? video : text
  return lesson.duration ? `${kind} · ${lesson.duration}` : kind
}

export interface HeartbeatAccepted {
  status: 'success'
  accepted: boolean
  duplicate: boolean
  credited_seconds: number
}

export const listLessons = (courseId: number, signal?: AbortSignal) =>
  api.get<Lesson[]>(`/api/courses/${courseId}/lessons`, undefined, signal)

export async function loadLessons(courseId: number, signal: AbortSignal): Promise<Lesson[]> {
  const lessons = await listLessons(courseId, signal)
  return [...lessons].sort((a, b) => a.order - b.order)
}

export const createLesson = (courseId: number, input: LessonInput) =>
  api.post<Lesson>(`/api/courses/${courseId}/lessons`, input)

export const updateLesson = (courseId: number, lessonId: string, input: Partial<LessonInput>) =>
  api.put<Lesson>(`/api/courses/${courseId}/lessons/${lessonId}`, input)

export const deleteLesson = (courseId: number, lessonId: string) =>
  api.delete<void>(`/api/courses/${courseId}/lessons/${lessonId}`)

export const reorderLessons = (courseId: number, lessonIds: string[]) =>
  api.put<Lesson[]>(`/api/courses/${courseId}/lessons/order`, { lesson_ids: lessonIds })

export function loadProgress(courseId: number, signal: AbortSignal): Promise<Progress> {
  return api.get<Progress>(`/api/courses/${courseId}/progress`, undefined, signal)
}

export function markLesson(courseId: number, lessonId: string, completed: boolean): Promise<Progress> {
  return api.post<Progress>(`/api/courses/${courseId}/progress`, { lesson_id: lessonId, completed })
}

export function postHeartbeat(courseId: number, body: { lesson_id: string; seconds_spent: number; seq: number; client_ts: number }): Promise<HeartbeatAccepted> {
  return api.post<HeartbeatAccepted>(`/api/courses/${courseId}/telemetry`, body)
}
