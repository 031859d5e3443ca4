import { describe, expect, it } from 'vitest'
import { appendCapped, applySnapshot, emptyLiveState, isLiveAnalytics, topCourses } from './liveState'
import type { LiveAnalytics } from './types'

function snapshot(second: number, overrides: Partial<LiveAnalytics> = {}): LiveAnalytics {
  return {
    users_online: 3,
    active_learners: 2,
    courses: [{ course_id: 1, title: 'Python', active_learners: 2 }],
    heartbeats_per_minute: 10 + second,
    messages_per_minute: 1,
    generated_at: `2026-11-25T15:00:${String(second).padStart(2, '0')}.123456Z`,
    ...overrides,
  }
}

describe('appendCapped', () => {
  it('appends without touching the input', () => {
    const series = [1, 2]
    expect(appendCapped(series, 3, 5)).toEqual([1, 2, 3])
    expect(series).toEqual([1, 2])
  })

  it('drops the oldest points beyond the cap', () => {
    let series: number[] = []
    for (let value = 1; value <= 7; value += 1) series = appendCapped(series, value, 4)
    expect(series).toEqual([4, 5, 6, 7])
  })

  it('keeps nothing with a cap of zero', () => {
    expect(appendCapped([1], 2, 0)).toEqual([])
  })
})

describe('applySnapshot', () => {
  it('takes the first snapshot and starts the series', () => {
    const state = applySnapshot(emptyLiveState, snapshot(1))
    expect(state.snapshot?.heartbeats_per_minute).toBe(11)
    expect(state.series).toEqual([
      { at: Date.parse('2026-11-25T15:00:01.123Z'), heartbeats: 11, messages: 1, usersOnline: 3, activeLearners: 2 },
    ])
  })

  it('ignores a repeated snapshot (REST load and push of the same instant)', () => {
    const once = applySnapshot(emptyLiveState, snapshot(1))
    expect(applySnapshot(once, snapshot(1))).toBe(once)
  })

  it('ignores an older snapshot arriving late (a slow REST reload after newer pushes)', () => {
    const state = applySnapshot(applySnapshot(emptyLiveState, snapshot(1)), snapshot(4))
    const after = applySnapshot(state, snapshot(2, { users_online: 99 }))
    expect(after).toBe(state)
    expect(after.snapshot?.users_online).toBe(3)
  })

  it('keeps a rolling window of the last pushes', () => {
    let state = emptyLiveState
    for (let second = 0; second < 10; second += 1) state = applySnapshot(state, snapshot(second), 3)
    expect(state.series.map((point) => point.heartbeats)).toEqual([17, 18, 19])
    expect(state.snapshot?.generated_at).toContain('15:00:09')
  })

  it('ignores a snapshot whose time cannot be read', () => {
    const state = applySnapshot(emptyLiveState, snapshot(1))
    expect(applySnapshot(state, snapshot(2, { generated_at: 'not a date' }))).toBe(state)
  })
})

describe('isLiveAnalytics', () => {
  it('accepts the server snapshot shape', () => {
    expect(isLiveAnalytics(snapshot(1))).toBe(true)
    expect(isLiveAnalytics({ ...snapshot(1), courses: [] })).toBe(true)
  })

  it('rejects other payloads', () => {
    expect(isLiveAnalytics(null)).toBe(false)
    expect(isLiveAnalytics({ course_id: 1, entries: [] })).toBe(false)
    expect(isLiveAnalytics({ ...snapshot(1), users_online: '3' })).toBe(false)
    expect(isLiveAnalytics({ ...snapshot(1), heartbeats_per_minute: -1 })).toBe(false)
    expect(isLiveAnalytics({ ...snapshot(1), generated_at: 'soon' })).toBe(false)
    expect(isLiveAnalytics({ ...snapshot(1), courses: [{ course_id: 1 }] })).toBe(false)
  })
})

describe('topCourses', () => {
  it('orders by active learners, then title, and keeps the first ones', () => {
    const live = snapshot(1, {
      courses: [
        { course_id: 1, title: 'B', active_learners: 1 },
        { course_id: 2, title: 'A', active_learners: 1 },
        { course_id: 3, title: 'C', active_learners: 5 },
      ],
    })
    expect(topCourses(live, 2).map((course) => course.course_id)).toEqual([3, 2])
    expect(topCourses(null, 5)).toEqual([])
  })
})
