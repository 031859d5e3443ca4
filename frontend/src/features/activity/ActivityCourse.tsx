// One course's live activity: who is learning now, on which lesson, for how long.
import { useEffect, useState } from 'react'
import { Link } from 'react-router'
import { Card, formatSeconds } from '../../components/ui'
import { useChannel } from '../../lib/live'
import { applyActivity, asActivityPush, expireActivity, initialActivity, isHighlighted, shownSeconds, type ActivityState } from './activityState'
import { useNow } from './useNow'

interface Props {
  courseId: number
  title: string
}

export function ActivityCourse({ courseId, title }: Props) {
  const [state, setState] = useState<ActivityState>(initialActivity)
  const [refused, setRefused] = useState<string | null>(null)
  const now = useNow()

  useEffect(() => setState((current) => expireActivity(current, now)), [now])

  useChannel(`course:${courseId}:activity`, {
    onPublication(publication) {
      if (publication.event !== 'activity') return
      const push = asActivityPush(publication.data)
      if (push && push.course_id === courseId) setState((current) => applyActivity(current, push, Date.now()))
    },
    // There is no REST endpoint for live activity, and every push carries the whole picture: after a gap
    // that history could not fill we simply wait for the next push, which the worker sends at least every
    // 5 s (activity_refresh_seconds) while anyone is active in the course.
    onRecoveryFailed() {},
    onRefused(code) {
      setRefused(code === 'too_many_subscriptions' ? 'Too many live views are open; pick one course.' : 'You cannot watch this course.')
    },
  })

  const waiting = state.activeCount === null
  return (
    <Card>
      <section aria-labelledby={`activity-${courseId}`} data-testid="activity-course" data-course-id={courseId}>
        <div className="mb-3 flex flex-wrap items-baseline justify-between gap-2">
          <h2 id={`activity-${courseId}`} className="text-lg font-semibold">
            <Link to={`/teach/courses/${courseId}`} className="hover:underline">
              {title}
            </Link>
          </h2>
          <p className="text-sm text-slate-600 dark:text-slate-400" aria-live="polite">
            <span className="text-2xl font-semibold text-slate-900 dark:text-slate-100" data-testid="activity-count">
              {state.activeCount ?? 0}
            </span>{' '}
            learning now
          </p>
        </div>
        {refused && (
          <p role="alert" className="text-sm text-rose-600 dark:text-rose-400">
            {refused}
          </p>
        )}
        {!refused && state.learners.length === 0 && (
          <p className="py-4 text-sm text-slate-500 dark:text-slate-400">
            {waiting
              ? 'Nobody is learning right now. Learners appear here within seconds of opening a lesson.'
              : 'Nobody is learning right now.'}
          </p>
        )}
        {state.learners.length > 0 && (
          <ul className="divide-y divide-slate-200 dark:divide-slate-800">
            {state.learners.map((learner) => {
              const seconds = shownSeconds(learner, now)
              const fresh = isHighlighted(learner, now)
              return (
                <li
                  key={learner.user_id}
                  data-testid="activity-learner"
                  data-user-id={learner.user_id}
                  data-lesson-id={learner.lesson_id}
                  data-session-seconds={learner.session_seconds}
                  className={`flex flex-col gap-1 rounded-md px-2 py-2 transition-colors duration-700 md:flex-row md:items-center md:gap-4 ${
                    fresh ? 'bg-emerald-50 dark:bg-emerald-950' : ''
                  }`}
                >
                  <span className="flex-1 font-medium">
                    {learner.name || `Learner #${learner.user_id}`}
                    {fresh && <span className="ml-2 rounded-full bg-emerald-600 px-2 py-0.5 text-xs text-white">joined</span>}
                  </span>
                  <span className="flex-1 text-sm text-slate-700 dark:text-slate-300">
                    <span className="sr-only">Lesson: </span>
                    <span data-testid="activity-lesson">{learner.lesson_title ?? 'a removed lesson'}</span>
                  </span>
                  <span className="text-sm tabular-nums text-slate-600 dark:text-slate-400">
                    <span className="sr-only">Session time: </span>
                    <span data-testid="activity-seconds" data-seconds={seconds}>
                      {formatSeconds(seconds)}
                    </span>{' '}
                    <span aria-hidden>this session</span>
                  </span>
                </li>
              )
            })}
          </ul>
        )}
        {state.activeCount !== null && state.activeCount > state.learners.length && (
          <p className="mt-2 text-xs text-slate-500">and {state.activeCount - state.learners.length} more</p>
        )}
        {state.left.length > 0 && (
          <ul aria-label="Just left" className="mt-3 space-y-1">
            {state.left.map((learner) => (
              <li key={learner.user_id} data-testid="activity-left" className="rounded-md bg-slate-100 px-2 py-1 text-sm text-slate-500 dark:bg-slate-800 dark:text-slate-400">
                {learner.name || `Learner #${learner.user_id}`} left after {formatSeconds(learner.session_seconds)}
              </li>
            ))}
          </ul>
        )}
      </section>
    </Card>
  )
}
