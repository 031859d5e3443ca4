// Learner-side shapes (as /api/openapi.json names them; the course shape is ../courses/api Course) and the calls that load them.
import { api } from '../../lib/client'
import type { Course } from '../courses/api'

export interface LearnerStats {
  courses_in_progress: number
  courses_completed: number
  lessons_completed: number
  total_enrolled: number
  total_seconds_spent: number
}

/** GET /api/learner/enrollments: a course the learner is enrolled in, flat as the original API listed it
 * (`id` is the course's id), with the enrollment's figures and the full course beside it. */
export interface LearnerEnrollment {
  id: number
  title: string
  description: string
  category: string
  level: string
  duration: string
  thumbnail_url: string | null
  enrolled_at: string
  completed_at: string | null
  total_lessons: number
  completed_lessons: number
  /** Whole percent, rounded down; `progress` has two decimals. */
  progress_percentage: number
  is_completed: boolean
  enrollment_id: number
  user_id: number
  course_id: number
  progress: number
  course: Course
}

export interface Progress {
  /** The progress record's id. */
  id: string
  user_id: number
  course_id: number
  completed_lessons: string[]
  total_lessons: number
  progress_percentage: number
  total_seconds_spent: number
  last_accessed: string | null
  lesson_times: Record<string, number>
  completed_at: string | null
}

export interface LearningOverview {
  enrollments: LearnerEnrollment[]
  progress: Progress[]
}

export async function loadOverview(signal: AbortSignal): Promise<LearningOverview> {
  const [enrollments, progress] = await Promise.all([
    api.get<LearnerEnrollment[]>('/api/learner/enrollments', undefined, signal),
    api.get<Progress[]>('/api/my-progress', undefined, signal),
  ])
  return { enrollments, progress }
}

export function loadStats(signal: AbortSignal): Promise<LearnerStats> {
  return api.get<LearnerStats>('/api/learner/stats', undefined, signal)
}
