// The live analytics panel's state: the latest snapshot plus a short rolling series of the rates, kept
// client-side. Snapshots arrive from REST (first load, reload after a failed recovery) and from pushes;
// an older or repeated snapshot never replaces a newer one nor adds a point twice.
import type { LiveAnalytics } from './types'

export interface RatePoint {
  /** generated_at in ms since the epoch. */
  at: number
  heartbeats: number
  messages: number
  usersOnline: number
  activeLearners: number
}

export interface LiveState {
  snapshot: LiveAnalytics | null
  series: RatePoint[]
}

export const SERIES_CAP = 40

export const emptyLiveState: LiveState = { snapshot: null, series: [] }

/** Append to a series, dropping the oldest points beyond `cap` (a new array; the input is untouched). */
export function appendCapped<T>(series: readonly T[], point: T, cap: number): T[] {
  if (cap <= 0) return []
  const next = [...series, point]
  return next.length > cap ? next.slice(next.length - cap) : next
}

const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value >= 0

/** Whether a publication's data has the LiveAnalytics shape (anything else is ignored, not rendered). */
export function isLiveAnalytics(data: unknown): data is LiveAnalytics {
  if (typeof data !== 'object' || data === null) return false
  const value = data as Record<string, unknown>
  return (
    isCount(value.users_online) &&
    isCount(value.active_learners) &&
    isCount(value.heartbeats_per_minute) &&
    isCount(value.messages_per_minute) &&
    typeof value.generated_at === 'string' &&
    !Number.isNaN(Date.parse(value.generated_at)) &&
    Array.isArray(value.courses) &&
    value.courses.every(
      (course: unknown) =>
        typeof course === 'object' &&
        course !== null &&
        typeof (course as Record<string, unknown>).course_id === 'number' &&
        typeof (course as Record<string, unknown>).title === 'string' &&
        isCount((course as Record<string, unknown>).active_learners),
    )
  )
}

export function toPoint(snapshot: LiveAnalytics): RatePoint {
  return {
    at: Date.parse(snapshot.generated_at),
    heartbeats: snapshot.heartbeats_per_minute,
    messages: snapshot.messages_per_minute,
    usersOnline: snapshot.users_online,
    activeLearners: snapshot.active_learners,
  }
}

/** Apply one snapshot: ignored when not newer than the current one. */
export function applySnapshot(state: LiveState, snapshot: LiveAnalytics, cap: number = SERIES_CAP): LiveState {
  const at = Date.parse(snapshot.generated_at)
  if (Number.isNaN(at)) return state
  if (state.snapshot && at <= Date.parse(state.snapshot.generated_at)) return state
  return { snapshot, series: appendCapped(state.series, toPoint(snapshot), cap) }
}

/** The busiest courses for the bar chart (the server already sorts; keep the first `limit`). */
export function topCourses(snapshot: LiveAnalytics | null, limit: number) {
  if (!snapshot) return []
  return [...snapshot.courses].sort((a, b) => b.active_learners - a.active_learners || a.title.localeCompare(b.title)).slice(0, limit)
}
