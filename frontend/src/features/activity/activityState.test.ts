import { describe, expect, it } from 'vitest'
import {
  INTERPOLATE_MAX_SECONDS,
  JOIN_HIGHLIGHT_MS,
  LEAVE_LINGER_MS,
  applyActivity,
  asActivityPush,
  expireActivity,
  initialActivity,
  isHighlighted,
  shownSeconds,
} from './activityState'
import type { ActiveLearner, ActivityPush } from './types'

function learner(user_id: number, seconds = 0, started = '2026-01-01T10:00:00Z', lesson = 'Intro'): ActiveLearner {
  return {
    user_id,
    name: `User ${user_id}`,
    avatar: null,
    lesson_id: `l-${lesson}`,
    lesson_title: lesson,
    session_started: started,
    session_seconds: seconds,
    last_seen: started,
  }
}

function push(active: ActiveLearner[], joins: ActiveLearner[] = [], leaves: ActiveLearner[] = []): ActivityPush {
  return { course_id: 7, active_count: active.length, active, joins, leaves }
}

describe('applyActivity', () => {
  it('replaces the list with each push and keeps the count', () => {
    let state = applyActivity(initialActivity, push([learner(1), learner(2)]), 1000)
    expect(state.activeCount).toBe(2)
    state = applyActivity(state, { ...push([learner(2, 15)]), active_count: 250 }, 2000)
    expect(state.learners.map((l) => l.user_id)).toEqual([2])
    expect(state.activeCount).toBe(250)
  })

  it('highlights joins for a while', () => {
    const state = applyActivity(initialActivity, push([learner(1)], [learner(1)]), 1000)
    expect(isHighlighted(state.learners[0], 1000 + JOIN_HIGHLIGHT_MS - 1)).toBe(true)
    expect(isHighlighted(state.learners[0], 1000 + JOIN_HIGHLIGHT_MS)).toBe(false)
  })

  it('treats someone new after the first push, or a new session, as a join', () => {
    let state = applyActivity(initialActivity, push([learner(1)]), 1000)
    expect(isHighlighted(state.learners[0], 1000)).toBe(false)
    state = applyActivity(state, push([learner(1, 0, '2026-01-01T11:00:00Z'), learner(2)]), 2000)
    expect(state.learners.map((l) => isHighlighted(l, 2000))).toEqual([true, true])
  })

  it('keeps a join highlight across pushes of the same session', () => {
    let state = applyActivity(initialActivity, push([learner(1)], [learner(1)]), 1000)
    state = applyActivity(state, push([learner(1, 5)]), 2000)
    expect(isHighlighted(state.learners[0], 3000)).toBe(true)
  })

  it('lists leavers for a while, unless they came back', () => {
    let state = applyActivity(initialActivity, push([learner(1), learner(2)]), 1000)
    state = applyActivity(state, push([learner(2)], [], [learner(1, 30)]), 2000)
    expect(state.left.map((l) => l.user_id)).toEqual([1])
    expect(expireActivity(state, 2000 + LEAVE_LINGER_MS - 1).left).toHaveLength(1)
    expect(expireActivity(state, 2000 + LEAVE_LINGER_MS).left).toHaveLength(0)
    const back = applyActivity(state, push([learner(1, 0, '2026-01-01T12:00:00Z'), learner(2)], [learner(1)]), 3000)
    expect(back.left).toHaveLength(0)
  })

  it('returns the same state when nothing expired', () => {
    const state = applyActivity(initialActivity, push([learner(1)]), 1000)
    expect(expireActivity(state, 5000)).toBe(state)
  })
})

describe('shownSeconds', () => {
  it('counts on from the credited time, bounded', () => {
    const state = applyActivity(initialActivity, push([learner(1, 30)]), 10_000)
    const view = state.learners[0]
    expect(shownSeconds(view, 10_000)).toBe(30)
    expect(shownSeconds(view, 13_500)).toBe(33)
    expect(shownSeconds(view, 60_000)).toBe(30 + INTERPOLATE_MAX_SECONDS)
    expect(shownSeconds(view, 9_000)).toBe(30)
  })

  it('keeps counting through pushes that credit nothing new and restarts when time is credited', () => {
    let state = applyActivity(initialActivity, push([learner(1, 30)]), 10_000)
    state = applyActivity(state, push([learner(1, 30)]), 13_000)
    expect(shownSeconds(state.learners[0], 14_000)).toBe(34)
    state = applyActivity(state, push([learner(1, 45)]), 15_000)
    expect(shownSeconds(state.learners[0], 15_000)).toBe(45)
  })
})

describe('asActivityPush', () => {
  it('accepts the worker payload and rejects other data', () => {
    expect(asActivityPush({ course_id: 3, active_count: 0, active: [], joins: [], leaves: [] })).not.toBeNull()
    expect(asActivityPush({ course_id: 3, active: [learner(1)] })?.active_count).toBe(1)
    expect(asActivityPush(null)).toBeNull()
    expect(asActivityPush({ course_id: '3', active: [] })).toBeNull()
  })
})
