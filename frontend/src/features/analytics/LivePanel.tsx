// The real-time panel: users online, active learners (total and per course), heartbeat and message
// rates with a rolling chart of the last pushes, and when the snapshot was taken.
import { Button, Card, ErrorMessage, Spinner } from '../../components/ui'
import { useLiveStatus } from '../../lib/live'
import { ActiveCoursesChart, RatesChart } from './charts'
import { SERIES_CAP, topCourses } from './liveState'
import { useLiveAnalytics } from './useLiveAnalytics'

function Tile({ label, value, testId, hint }: { label: string; value: number; testId: string; hint?: string }) {
  return (
    <div className="rounded-lg border border-slate-200 p-3 dark:border-slate-800">
      <div className="text-xs font-medium uppercase tracking-wide text-slate-500 dark:text-slate-400">{label}</div>
      <div className="mt-1 text-3xl font-semibold tabular-nums" data-testid={testId}>
        {value}
      </div>
      {hint && <div className="text-xs text-slate-500 dark:text-slate-400">{hint}</div>}
    </div>
  )
}

export function LivePanel() {
  const { state, error, loading, reload, refused } = useLiveAnalytics()
  const status = useLiveStatus()
  const snapshot = state.snapshot
  const courses = topCourses(snapshot, 10)
  const pushing = status === 'open' && !refused

  return (
    <Card className="mb-6">
      <div className="mb-4 flex flex-wrap items-center justify-between gap-3">
        <div className="flex items-center gap-2">
          <span className="relative flex h-3 w-3" aria-hidden>
            {pushing && <span className="absolute inline-flex h-full w-full animate-ping rounded-full bg-emerald-400 opacity-60 motion-reduce:animate-none" />}
            <span className={`relative inline-flex h-3 w-3 rounded-full ${pushing ? 'bg-emerald-500' : 'bg-slate-400'}`} />
          </span>
          <h2 className="text-lg font-semibold">Live now</h2>
          <span className="text-xs text-slate-500 dark:text-slate-400">{pushing ? 'updates every few seconds' : 'live updates paused'}</span>
        </div>
        <div className="flex items-center gap-3 text-sm">
          <span className="text-slate-600 dark:text-slate-400">
            Last updated{' '}
            {snapshot ? (
              <time dateTime={snapshot.generated_at} data-testid="analytics-updated-at" aria-live="off">
                {new Date(snapshot.generated_at).toLocaleTimeString()}
              </time>
            ) : (
              <span data-testid="analytics-updated-at">—</span>
            )}
          </span>
          <Button variant="secondary" onClick={reload} disabled={loading} aria-label="Refresh live figures">
            Refresh
          </Button>
        </div>
      </div>

      {refused && <ErrorMessage error={`Live updates are unavailable: ${refused}`} onRetry={reload} />}
      {error && !snapshot && <ErrorMessage error={error} onRetry={reload} />}
      {!snapshot && !error && <Spinner label="Loading live figures…" />}
      {snapshot && (
        <>
          <div className="grid grid-cols-2 gap-3 md:grid-cols-4">
            <Tile label="Users online" value={snapshot.users_online} testId="analytics-users-online" hint="open live connections" />
            <Tile label="Active learners" value={snapshot.active_learners} testId="analytics-active-learners" hint="heartbeat in the last 5 min" />
            <Tile label="Heartbeats / min" value={snapshot.heartbeats_per_minute} testId="analytics-heartbeats-per-minute" hint="last 60 s" />
            <Tile label="Messages / min" value={snapshot.messages_per_minute} testId="analytics-messages-per-minute" hint="last 60 s" />
          </div>
          <div className="mt-6 grid gap-6 lg:grid-cols-2">
            <div>
              <h3 className="mb-2 text-sm font-semibold">Rates over the last {SERIES_CAP} updates</h3>
              {state.series.length < 2 ? (
                <p className="py-8 text-center text-sm text-slate-500 dark:text-slate-400">The chart fills in as updates arrive.</p>
              ) : (
                <RatesChart series={state.series} />
              )}
            </div>
            <div>
              <h3 className="mb-2 text-sm font-semibold">Active learners per course</h3>
              {courses.length === 0 ? (
                <p className="py-8 text-center text-sm text-slate-500 dark:text-slate-400" data-testid="analytics-no-active-courses">
                  No learner has been active in the last 5 minutes.
                </p>
              ) : (
                <>
                  <ActiveCoursesChart courses={courses} />
                  <ul className="sr-only">
                    {courses.map((course) => (
                      <li key={course.course_id} data-testid="analytics-course" data-course-id={course.course_id}>
                        {course.title}: {course.active_learners}
                      </li>
                    ))}
                  </ul>
                </>
              )}
            </div>
          </div>
        </>
      )}
    </Card>
  )
}
