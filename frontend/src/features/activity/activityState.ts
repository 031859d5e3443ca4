// The live activity of one course, folded from `activity` pushes. Each push carries the full picture
// (every active learner), so it replaces the list; joins and leaves are only highlighted for a while.
import type { ActiveLearner, ActivityPush } from './types'

/** How long a join stays highlighted and a leaver stays listed as "just left". */
export const JOIN_HIGHLIGHT_MS = 5_000
export const LEAVE_LINGER_MS = 8_000
/** Between pushes the session clock keeps counting, but never more than this ahead of credited time. */
export const INTERPOLATE_MAX_SECONDS = 10

export interface LearnerView extends ActiveLearner {
  /** When session_seconds last changed here (ms); the clock counts on from it. */
  countedSince: number
  /** Highlighted as a new session until this time (ms), 0 when not. */
  joinedUntil: number
}

export interface LeftLearner extends ActiveLearner {
  leftUntil: number
}

export interface ActivityState {
  /** null until the first push: the worker sends one within ~5 s while anyone is active. */
  activeCount: number | null
  learners: LearnerView[]
  left: LeftLearner[]
  lastPushAt: number | null
}

export const initialActivity: ActivityState = { activeCount: null, learners: [], left: [], lastPushAt: null }

export function applyActivity(state: ActivityState, push: ActivityPush, now: number): ActivityState {
  const previous = new Map(state.learners.map((learner) => [learner.user_id, learner]))
  const joined = new Set(push.joins.map((learner) => learner.user_id))
  const learners = push.active.map((entry): LearnerView => {
    const before = previous.get(entry.user_id)
    const sameSession = before !== undefined && before.session_started === entry.session_started
    const unchanged = sameSession && before.session_seconds === entry.session_seconds
    const isJoin = joined.has(entry.user_id) || (state.lastPushAt !== null && !sameSession)
    return {
      ...entry,
      countedSince: unchanged ? before.countedSince : now,
      joinedUntil: isJoin ? now + JOIN_HIGHLIGHT_MS : sameSession ? before.joinedUntil : 0,
    }
  })
  const present = new Set(learners.map((learner) => learner.user_id))
  const leaving = push.leaves
    .filter((learner) => !present.has(learner.user_id))
    .map((learner): LeftLearner => ({ ...learner, leftUntil: now + LEAVE_LINGER_MS }))
  const leftIds = new Set(leaving.map((learner) => learner.user_id))
  const left = [
    ...leaving,
    ...state.left.filter((learner) => !present.has(learner.user_id) && !leftIds.has(learner.user_id) && learner.leftUntil > now),
  ]
  return { activeCount: push.active_count, learners, left, lastPushAt: now }
}

/** Drop expired "just left" entries (called from the view's clock). Returns the same state when nothing expired. */
export function expireActivity(state: ActivityState, now: number): ActivityState {
  const left = state.left.filter((learner) => learner.leftUntil > now)
  return left.length === state.left.length ? state : { ...state, left }
}

/** The session time shown now: credited seconds, counting on between pushes up to a bound. */
export function shownSeconds(learner: LearnerView, now: number): number {
  const elapsed = Math.max(0, Math.floor((now - learner.countedSince) / 1000))
  return learner.session_seconds + Math.min(elapsed, INTERPOLATE_MAX_SECONDS)
}

export function isHighlighted(learner: LearnerView, now: number): boolean {
  return learner.joinedUntil > now
}

/** Parse a publication's data defensively; null when it is not an activity push. */
export function asActivityPush(data: unknown): ActivityPush | null {
  if (typeof data !== 'object' || data === null) return null
  const push = data as Partial<ActivityPush>
  if (typeof push.course_id !== 'number' || !Array.isArray(push.active)) return null
  return {
    course_id: push.course_id,
    active_count: typeof push.active_count === 'number' ? push.active_count : push.active.length,
    active: push.active,
    joins: Array.isArray(push.joins) ? push.joins : [],
    leaves: Array.isArray(push.leaves) ? push.leaves : [],
  }
}
