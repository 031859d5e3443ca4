// Leaderboard shapes (LeaderboardEntry in /api/openapi.json; live event `leaderboard` in workers/live.py).
import { api } from '../../lib/client'

export interface LeaderboardEntry {
  rank: number
  user_id: number
  name: string
  avatar: string | null
  completed_lessons: number
  total_lessons: number
  progress_percentage: number
  total_seconds_spent: number
}

export interface Leaderboard {
  title: string
  entries: LeaderboardEntry[]
}

export async function loadLeaderboard(courseId: number, signal: AbortSignal): Promise<Leaderboard> {
  const [course, entries] = await Promise.all([
    api.get<{ title: string }>(`/api/courses/${courseId}`, undefined, signal),
    api.get<LeaderboardEntry[]>(`/api/courses/${courseId}/leaderboard`, undefined, signal),
  ])
  return { title: course.title, entries }
}
