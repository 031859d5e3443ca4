// A course's ranking over REST, then replaced by each `leaderboard` push of `course:{id}:leaderboard`.
import { Link, useParams } from 'react-router'
import { Card, Empty, ErrorMessage, PageHeader, ProgressBar, Spinner, formatSeconds } from '../../components/ui'
import { useChannel } from '../../lib/live'
import { useSession } from '../../lib/session'
import { useResource } from '../../lib/useResource'
import { loadLeaderboard } from './api'
import { entriesFromEvent } from './events'

export default function LeaderboardPage() {
  const courseId = Number(useParams().courseId)
  const { user } = useSession()
  const board = useResource((signal) => loadLeaderboard(courseId, signal), [courseId])

  useChannel(Number.isInteger(courseId) ? `course:${courseId}:leaderboard` : null, {
    onPublication(publication) {
      const entries = entriesFromEvent(courseId, publication.event, publication.data)
      if (entries) board.setData((current) => (current ? { ...current, entries } : current))
    },
    onRecoveryFailed: board.reload,
  })

  if (board.error && !board.data) {
    const code = board.error.code
    if (code === 'not_enrolled' || code === 'leaderboard_private' || board.error.status === 404) {
      return (
        <Card className="mx-auto max-w-xl text-center">
          <h1 className="text-xl font-semibold">{code === 'leaderboard_private' ? 'This leaderboard is private' : 'Enroll first'}</h1>
          <p className="mt-2 text-sm text-slate-600 dark:text-slate-400">{board.error.message}</p>
          <Link to={`/courses/${courseId}`} className="mt-4 inline-block text-indigo-600 underline dark:text-indigo-400">
            Go to the course page
          </Link>
        </Card>
      )
    }
    return <ErrorMessage error={board.error} onRetry={board.reload} />
  }
  if (!board.data) return <Spinner />
  const { title, entries } = board.data
  const meInList = entries.some((entry) => entry.user_id === user?.id)

  return (
    <>
      <PageHeader title="Leaderboard" actions={<Link to={`/courses/${courseId}/learn`} className="rounded-md border border-slate-300 px-3 py-2 text-sm hover:bg-slate-100 dark:border-slate-600 dark:hover:bg-slate-800">Back to the lessons</Link>}>
        {title} · ranked by progress, then less time, then earliest completion · updates live
      </PageHeader>
      {entries.length === 0 ? (
        <Empty>No learners yet.</Empty>
      ) : (
        <Card className="overflow-x-auto p-0">
          <table className="w-full text-left text-sm">
            <caption className="sr-only">Leaderboard of {title}</caption>
            <thead className="border-b border-slate-200 text-xs uppercase tracking-wide text-slate-500 dark:border-slate-800 dark:text-slate-400">
              <tr>
                <th scope="col" className="px-4 py-3">Rank</th>
                <th scope="col" className="px-4 py-3">Learner</th>
                <th scope="col" className="hidden px-4 py-3 md:table-cell">Lessons</th>
                <th scope="col" className="px-4 py-3">Progress</th>
                <th scope="col" className="px-4 py-3">Time</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((entry) => {
                const me = entry.user_id === user?.id
                return (
                  <tr
                    key={entry.user_id}
                    data-testid="leaderboard-row"
                    data-user-id={entry.user_id}
                    aria-current={me ? 'true' : undefined}
                    className={`border-b border-slate-100 last:border-0 dark:border-slate-800 ${me ? 'bg-indigo-50 font-medium dark:bg-indigo-950' : ''}`}
                  >
                    <td className="px-4 py-3 tabular-nums">#{entry.rank}</td>
                    <td className="px-4 py-3">
                      <span className="flex items-center gap-2">
                        {entry.avatar ? (
                          <img src={entry.avatar} alt="" className="h-7 w-7 rounded-full object-cover" />
                        ) : (
                          <span aria-hidden className="inline-flex h-7 w-7 items-center justify-center rounded-full bg-slate-200 text-xs dark:bg-slate-700">
                            {entry.name.slice(0, 1)}
                          </span>
                        )}
                        {entry.name}
                        {me && <span className="rounded bg-indigo-600 px-1.5 py-0.5 text-xs text-white">You</span>}
                      </span>
                    </td>
                    <td className="hidden px-4 py-3 tabular-nums md:table-cell">
                      {entry.completed_lessons}/{entry.total_lessons}
                    </td>
                    <td className="px-4 py-3">
                      <div className="flex min-w-24 items-center gap-2">
                        <ProgressBar value={entry.progress_percentage} label={`Progress of ${entry.name}`} />
                        <span className="tabular-nums">{Math.round(entry.progress_percentage)}%</span>
                      </div>
                    </td>
                    <td className="px-4 py-3 tabular-nums">{formatSeconds(entry.total_seconds_spent)}</td>
                  </tr>
                )
              })}
            </tbody>
          </table>
        </Card>
      )}
      {user?.role === 'learner' && entries.length > 0 && !meInList && (
        <p className="mt-3 text-sm text-slate-500 dark:text-slate-400">You are not in the top {entries.length} yet.</p>
      )}
    </>
  )
}
