// Every enrollment with progress, time and completion; live through the learner's own channel.
import { Link } from 'react-router'
import { Card, Empty, Loaded, PageHeader, ProgressBar, Spinner, formatDate, formatSeconds } from '../../components/ui'
import { useSession } from '../../lib/session'
import type { LearningOverview } from './api'
import { useLearning } from './useLearning'

const secondaryLink = 'rounded-md border border-slate-300 px-3 py-1.5 text-sm hover:bg-slate-100 dark:border-slate-600 dark:hover:bg-slate-800'

function Enrollments({ overview }: { overview: LearningOverview }) {
  if (overview.enrollments.length === 0) {
    return (
      <Empty>
        You are not enrolled in any course yet. <Link to="/courses" className="text-indigo-600 underline dark:text-indigo-400">Browse the catalogue</Link>
      </Empty>
    )
  }
  const progressByCourse = new Map(overview.progress.map((item) => [item.course_id, item]))
  return (
    <ul className="space-y-4">
      {overview.enrollments.map((item) => {
        const progress = progressByCourse.get(item.course_id)
        const done = item.completed_at !== null
        return (
          <li key={item.id} data-testid="my-learning-course" data-course-id={item.course_id} data-completed={done}>
            <Card className="flex flex-col gap-3 md:flex-row md:items-center md:gap-6">
              <div className="min-w-0 flex-1 space-y-2">
                <div className="flex flex-wrap items-center gap-2">
                  <h2 className="font-semibold">
                    <Link to={`/courses/${item.course_id}`} className="hover:underline">
                      {item.course.title}
                    </Link>
                  </h2>
                  {done && (
                    <span className="rounded-full bg-emerald-100 px-2 py-0.5 text-xs font-medium text-emerald-800 dark:bg-emerald-950 dark:text-emerald-300">
                      Completed {formatDate(item.completed_at)}
                    </span>
                  )}
                </div>
                <ProgressBar value={item.progress} label={`Progress in ${item.course.title}`} />
                <p className="text-sm text-slate-600 dark:text-slate-400">
                  <span data-testid="my-learning-progress">{Math.round(item.progress)}%</span>
                  {progress && ` · ${progress.completed_lessons.length} of ${progress.total_lessons} lessons`} · time spent{' '}
                  {formatSeconds(progress?.total_seconds_spent ?? 0)} · enrolled {formatDate(item.enrolled_at)}
                </p>
              </div>
              <div className="flex flex-wrap gap-2">
                <Link to={`/courses/${item.course_id}/learn`} className="rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-500">
                  {done ? 'Review' : item.progress > 0 ? 'Continue' : 'Start'}
                </Link>
                <Link to={`/courses/${item.course_id}/discussions`} className={secondaryLink}>
                  Discussions
                </Link>
                <Link to={`/courses/${item.course_id}/leaderboard`} className={secondaryLink}>
                  Leaderboard
                </Link>
              </div>
            </Card>
          </li>
        )
      })}
    </ul>
  )
}

export default function MyLearningPage() {
  const { user } = useSession()
  const learning = useLearning(user?.id ?? null)
  if (!user) return <Spinner />
  return (
    <>
      <PageHeader title="My learning">Progress updates live as you learn.</PageHeader>
      <Loaded resource={learning}>{(overview) => <Enrollments overview={overview} />}</Loaded>
    </>
  )
}
