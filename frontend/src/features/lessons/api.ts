// Lesson-player shapes (LessonPublic, CourseDetail, HeartbeatAccepted in /api/openapi.json) and calls.
import { api } from '../../lib/client'
import type { CoursePublic, Progress } from '../learning/api'

export interface LessonSummary {
  id: string
  title: string
  type: string
  duration: number
  order: number
}

export interface CourseDetail extends CoursePublic {
  lessons: LessonSummary[]
}

export interface Lesson {
  id: string
  course_id: number
  title: string
  type: 'video' | 'text'
  duration: number
  /** text: HTML sanitized by the server (nh3); video: an http(s) URL or a /media/ path. */
  content: string
  /** HTML sanitized by the server (nh3), or null. */
  notes: string | null
  order: number
  created_at: string
  updated_at: string
}

export interface HeartbeatAccepted {
  accepted: boolean
  duplicate: boolean
  credited_seconds: number
}

export function loadCourse(courseId: number, signal: AbortSignal): Promise<CourseDetail> {
  return api.get<CourseDetail>(`/api/courses/${courseId}`, undefined, signal)
}

export async function loadLessons(courseId: number, signal: AbortSignal): Promise<Lesson[]> {
  const lessons = await api.get<Lesson[]>(`/api/courses/${courseId}/lessons`, undefined, signal)
  return [...lessons].sort((a, b) => a.order - b.order)
}

export function loadProgress(courseId: number, signal: AbortSignal): Promise<Progress> {
  return api.get<Progress>(`/api/courses/${courseId}/progress`, undefined, signal)
}

export function markLesson(courseId: number, lessonId: string, completed: boolean): Promise<Progress> {
  return api.post<Progress>(`/api/courses/${courseId}/progress`, { lesson_id: lessonId, completed })
}

export function postHeartbeat(courseId: number, body: { lesson_id: string; seconds_spent: number; seq: number; client_ts: number }): Promise<HeartbeatAccepted> {
  return api.post<HeartbeatAccepted>(`/api/courses/${courseId}/telemetry`, body)
}
