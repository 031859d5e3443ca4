// Reading a `leaderboard` publication (pure, no client import, so it is unit-tested in node).
import type { LeaderboardEntry } from './api'

/** The entries of a `leaderboard` publication for this course, or null if it is not one. */
export function entriesFromEvent(courseId: number, event: string, data: unknown): LeaderboardEntry[] | null {
  if (event !== 'leaderboard' || typeof data !== 'object' || data === null) return null
  const payload = data as { course_id?: unknown; entries?: unknown }
  if (payload.course_id !== courseId || !Array.isArray(payload.entries)) return null
  return payload.entries as LeaderboardEntry[]
}
