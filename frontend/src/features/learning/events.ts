// Apply the learner's own `user:{id}` events to the "my learning" data without refetching.
import type { LearningOverview } from './api'

export interface LearningEvent {
  event: string
  data: unknown
}

interface ProgressData {
  course_id?: unknown
  progress?: unknown
  completed_at?: unknown
}

/** The new overview, `null` when the event names a course we do not know (refetch), or the same object
 *  when the event does not concern this view. */
export function applyLearningEvent(overview: LearningOverview, { event, data }: LearningEvent): LearningOverview | null {
  if (event !== 'progress.updated' && event !== 'course.completed' && event !== 'course.reopened') return overview
  const payload = (data ?? {}) as ProgressData
  const courseId = typeof payload.course_id === 'number' ? payload.course_id : null
  if (courseId === null) return overview
  if (!overview.enrollments.some((item) => item.course_id === courseId)) return null
  const percent = typeof payload.progress === 'number' ? payload.progress : null
  const completedAt =
    event === 'course.completed'
      ? typeof payload.completed_at === 'string'
        ? payload.completed_at
        : new Date().toISOString()
      : event === 'course.reopened'
        ? null
        : undefined
  return {
    enrollments: overview.enrollments.map((item) => {
      if (item.course_id !== courseId) return item
      const progress = percent ?? (event === 'course.completed' ? 100 : item.progress)
      const completed = completedAt === undefined ? item.completed_at : completedAt
      return { ...item, progress, progress_percentage: Math.floor(progress), completed_at: completed, is_completed: completed !== null }
    }),
    progress: overview.progress.map((item) =>
      item.course_id !== courseId
        ? item
        : {
            ...item,
            progress_percentage: percent ?? (event === 'course.completed' ? 100 : item.progress_percentage),
            completed_at: completedAt === undefined ? item.completed_at : completedAt,
          },
    ),
  }
}
