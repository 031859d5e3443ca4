import { describe, expect, it } from 'vitest'
import type { Course } from '../courses/api'
import type { LearnerEnrollment, LearningOverview } from './api'
import { applyLearningEvent } from './events'

const course = { id: 1, title: 'Python' } as Course

function enrollment(enrollmentId: number, courseId: number, progress: number): LearnerEnrollment {
  return {
    id: courseId,
    title: 'Python',
    description: '',
    category: 'Programming',
    level: 'Beginner',
    duration: '',
    thumbnail_url: null,
    enrolled_at: '2026-01-01T00:00:00Z',
    completed_at: null,
    total_lessons: 5,
    completed_lessons: 2,
    progress_percentage: Math.floor(progress),
    is_completed: false,
    enrollment_id: enrollmentId,
    user_id: 5,
    course_id: courseId,
    progress,
    course: { ...course, id: courseId },
  }
}

function overview(): LearningOverview {
  return {
    enrollments: [enrollment(10, 1, 40), enrollment(11, 2, 0)],
    progress: [
      {
        id: '5:1',
        user_id: 5,
        course_id: 1,
        completed_lessons: ['a', 'b'],
        total_lessons: 5,
        progress_percentage: 40,
        total_seconds_spent: 90,
        last_accessed: null,
        lesson_times: {},
        completed_at: null,
      },
    ],
  }
}

describe('applyLearningEvent', () => {
  it('updates the progress of one course', () => {
    const next = applyLearningEvent(overview(), { event: 'progress.updated', data: { user_id: 5, course_id: 1, progress: 60 } })
    expect(next?.enrollments[0]?.progress).toBe(60)
    expect(next?.enrollments[1]?.progress).toBe(0)
    expect(next?.progress[0]?.progress_percentage).toBe(60)
  })

  it('marks a course completed and reopened', () => {
    const done = applyLearningEvent(overview(), {
      event: 'course.completed',
      data: { user_id: 5, course_id: 1, completed_at: '2026-02-01T00:00:00Z' },
    })!
    expect(done.enrollments[0]?.completed_at).toBe('2026-02-01T00:00:00Z')
    expect(done.enrollments[0]?.progress).toBe(100)
    expect(done.enrollments[0]?.is_completed).toBe(true)
    const reopened = applyLearningEvent(done, { event: 'course.reopened', data: { user_id: 5, course_id: 1, progress: 83.3 } })!
    expect(reopened.enrollments[0]?.completed_at).toBeNull()
    expect(reopened.enrollments[0]?.progress).toBe(83.3)
    expect(reopened.enrollments[0]?.progress_percentage).toBe(83)
    expect(reopened.enrollments[0]?.is_completed).toBe(false)
    expect(reopened.progress[0]?.completed_at).toBeNull()
  })

  it('asks for a refetch for an unknown course', () => {
    expect(applyLearningEvent(overview(), { event: 'progress.updated', data: { course_id: 99, progress: 10 } })).toBeNull()
  })

  it('ignores other events', () => {
    const before = overview()
    expect(applyLearningEvent(before, { event: 'message.sent', data: { course_id: 1 } })).toBe(before)
  })
})
