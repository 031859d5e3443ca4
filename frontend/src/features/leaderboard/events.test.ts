import { describe, expect, it } from 'vitest'
import { entriesFromEvent } from './events'

describe('entriesFromEvent', () => {
  const entry = { rank: 1, user_id: 5, name: 'Maya', avatar: null, completed_lessons: 1, total_lessons: 2, progress_percentage: 50, total_seconds_spent: 60 }

  it('takes the entries of this course', () => {
    expect(entriesFromEvent(3, 'leaderboard', { course_id: 3, entries: [entry] })).toEqual([entry])
  })

  it('ignores other courses, events and malformed data', () => {
    expect(entriesFromEvent(3, 'leaderboard', { course_id: 4, entries: [entry] })).toBeNull()
    expect(entriesFromEvent(3, 'activity', { course_id: 3, entries: [entry] })).toBeNull()
    expect(entriesFromEvent(3, 'leaderboard', { course_id: 3 })).toBeNull()
    expect(entriesFromEvent(3, 'leaderboard', null)).toBeNull()
  })
})
