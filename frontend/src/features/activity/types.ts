// The `activity` publication on `course:{id}:activity` (workers/live.py LiveWorker.activity_payload).

export interface ActiveLearner {
  user_id: number
  name: string
  avatar: string | null
  lesson_id: string
  /** null when the lesson was deleted since the heartbeat */
  lesson_title: string | null
  /** ISO time (UTC, seconds) */
  session_started: string | null
  /** Seconds credited by accepted heartbeats in this session */
  session_seconds: number
  last_seen: string | null
}

export interface ActivityPush {
  course_id: number
  /** Everyone active; `active` lists at most the first 200 by name */
  active_count: number
  active: ActiveLearner[]
  /** Sessions started since the previous push */
  joins: ActiveLearner[]
  /** Learners without a heartbeat for the idle timeout (60 s by default) */
  leaves: ActiveLearner[]
}
