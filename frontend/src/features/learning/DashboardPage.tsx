// Landing page after sign-in: learners see their totals and what to continue; staff get their shortcuts.
import { Link } from 'react-router'
import { Card, Empty, ErrorMessage, Loaded, PageHeader, ProgressBar, Spinner, formatDate, formatSeconds } from '../../components/ui'
import { useSession } from '../../lib/session'
import { useResource } from '../../lib/useResource'
import { loadStats, type LearningOverview } from './api'
import { useLearning } from './useLearning'

const linkButton = 'inline-flex rounded-md bg-indigo-600 px-3 py-2 text-sm font-medium text-white hover:bg-indigo-500'

function Stat({ label, value }: { label: string; value: string | number }) {
  return (
    <Card>
      <p className="text-sm text-slate-500 dark:text-slate-400">{label}</p>
      <p className="mt-1 text-2xl font-semibold" data-testid={`dashboard-stat-${label.toLowerCase().replace(/\s+/g, '-')}`}>
        {value}
      </p>
    </Card>
  )
}

function ContinueLearning({ overview }: { overview: LearningOverview }) {
  const progressByCourse = new Map(overview.progress.map((item) => [item.course_id, item]))
  const open = overview.enrollments
    .filter((item) => item.completed_at === null)
    .sort((a, b) => {
      const lastA = progressByCourse.get(a.course_id)?.last_accessed ?? a.enrolled_at
      const lastB = progressByCourse.get(b.course_id)?.last_accessed ?? b.enrolled_at
      return lastB.localeCompare(lastA)
    })
  if (open.length === 0) {
    return (
      <Empty>
        Nothing in progress. <Link to="/courses" className="text-indigo-600 underline dark:text-indigo-400">Browse the catalogue</Link>
      </Empty>
    )
  }
  return (
    <ul className="grid gap-4 md:grid-cols-2">
      {open.map((item) => {
        const last = progressByCourse.get(item.course_id)?.last_accessed
        return (
          <li key={item.id}>
            <Card className="flex h-full flex-col gap-3">
              <div>
                <h3 className="font-semibold">{item.course.title}</h3>
                <p className="text-xs text-slate-500 dark:text-slate-400">
                  {item.course.instructor} · last opened {formatDate(last)}
                </p>
              </div>
              <ProgressBar value={item.progress} label={`Progress in ${item.course.title}`} />
              <div className="flex items-center justify-between text-sm">
                <span>{Math.round(item.progress)}% complete</span>
                <Link to={`/courses/${item.course_id}/learn`} className={linkButton}>
                  Continue
                </Link>
              </div>
            </Card>
          </li>
        )
      })}
    </ul>
  )
}

function LearnerDashboard({ userId }: { userId: number }) {
  const stats = useResource((signal) => loadStats(signal), [userId])
  const learning = useLearning(userId)
  return (
    <div className="space-y-8">
      <section aria-labelledby="totals">
        <h2 id="totals" className="sr-only">
          Totals
        </h2>
        {stats.error && !stats.data ? (
          <ErrorMessage error={stats.error} onRetry={stats.reload} />
        ) : !stats.data ? (
          <Spinner />
        ) : (
          <div className="grid grid-cols-2 gap-4 md:grid-cols-5">
            <Stat label="Enrolled" value={stats.data.total_enrolled} />
            <Stat label="In progress" value={stats.data.courses_in_progress} />
            <Stat label="Completed" value={stats.data.courses_completed} />
            <Stat label="Lessons done" value={stats.data.lessons_completed} />
            <Stat label="Time spent" value={formatSeconds(stats.data.total_seconds_spent)} />
          </div>
        )}
      </section>
      <section aria-labelledby="continue">
        <div className="mb-3 flex items-center justify-between">
          <h2 id="continue" className="text-lg font-semibold">
            Continue learning
          </h2>
          <Link to="/my-learning" className="text-sm text-indigo-600 hover:underline dark:text-indigo-400">
            All my courses
          </Link>
        </div>
        <Loaded resource={learning}>{(overview) => <ContinueLearning overview={overview} />}</Loaded>
      </section>
    </div>
  )
}

const staffLinks = {
  instructor: [
    { to: '/teach', label: 'My courses', text: 'Create and edit courses and lessons.' },
    { to: '/teach/activity', label: 'Live activity', text: 'Who is learning now, and on which lesson.' },
    { to: '/admin/reports', label: 'Reports', text: 'Course and student reports, with CSV download.' },
    { to: '/messages', label: 'Messages', text: 'Talk with your learners.' },
  ],
  admin: [
    { to: '/admin/analytics', label: 'Live analytics', text: 'Users online, activity and trends.' },
    { to: '/admin/users', label: 'Users', text: 'Roles, blocking and deactivation.' },
    { to: '/admin/courses', label: 'All courses', text: 'Every course on the platform.' },
    { to: '/admin/reports', label: 'Reports', text: 'Reports with CSV download.' },
    { to: '/admin/audit', label: 'Audit log', text: 'Who did what, and when.' },
    { to: '/teach', label: 'Teaching', text: 'Courses you teach.' },
  ],
}

export default function DashboardPage() {
  const { user } = useSession()
  if (!user) return <Spinner />
  return (
    <>
      <PageHeader title={`Welcome, ${user.first_name}`}>
        {user.role === 'learner' ? 'Your learning at a glance.' : user.role === 'admin' ? 'Administration shortcuts.' : 'Teaching shortcuts.'}
      </PageHeader>
      {user.role === 'learner' ? (
        <LearnerDashboard userId={user.id} />
      ) : (
        <ul className="grid gap-4 md:grid-cols-3">
          {staffLinks[user.role].map((item) => (
            <li key={item.to}>
              <Link to={item.to} className="block h-full rounded-lg border border-slate-200 bg-white p-4 shadow-sm hover:border-indigo-400 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:border-slate-800 dark:bg-slate-900">
                <span className="font-semibold">{item.label}</span>
                <span className="mt-1 block text-sm text-slate-600 dark:text-slate-400">{item.text}</span>
              </Link>
            </li>
          ))}
        </ul>
      )}
    </>
  )
}
