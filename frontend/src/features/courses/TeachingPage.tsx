// /teach: the courses I teach (admins: all of them) with enrollment figures and the way to every tool.
import { Link } from 'react-router'
import { Card, Empty, ErrorMessage, Loaded, PageHeader, ProgressBar } from '../../components/ui'
import { useResource } from '../../lib/useResource'
import { teachingCourses, type CourseWithEnrollments } from './api'
import { TeachingBadge } from './TeachingBadge'

const linkClass =
  'rounded-md px-2 py-1 text-sm font-medium text-indigo-700 underline-offset-2 hover:underline focus-visible:outline-2 focus-visible:outline-indigo-500 dark:text-indigo-300'

function CourseRow({ course }: { course: CourseWithEnrollments }) {
  return (
    <li data-testid="teaching-course" data-course-id={course.id}>
      <Card className="flex flex-col gap-3 md:flex-row md:items-center">
        <div className="min-w-0 flex-1">
          <div className="flex flex-wrap items-center gap-2">
            <h2 className="truncate text-lg font-semibold">
              <Link to={`/teach/courses/${course.id}`} className="hover:underline">
                {course.title}
              </Link>
            </h2>
            <TeachingBadge published={course.is_published} />
          </div>
          <p className="text-sm text-slate-600 dark:text-slate-400">
            {course.category} · {course.level} · {course.lessonsCount} {course.lessonsCount === 1 ? 'lesson' : 'lessons'}
            {course.instructor ? ` · ${course.instructor}` : ''}
          </p>
          <dl className="mt-2 grid grid-cols-3 gap-2 text-sm md:max-w-md">
            <div>
              <dt className="text-slate-500 dark:text-slate-400">Enrolled</dt>
              <dd className="font-semibold" data-testid="teaching-enrolled">{course.enrollment_count}</dd>
            </div>
            <div>
              <dt className="text-slate-500 dark:text-slate-400">Completed</dt>
              <dd className="font-semibold">{course.completed_count}</dd>
            </div>
            <div>
              <dt className="text-slate-500 dark:text-slate-400">Rating</dt>
              <dd className="font-semibold">
                {course.average_rating === null ? '—' : `${course.average_rating.toFixed(1)} (${course.rating_count})`}
              </dd>
            </div>
          </dl>
          <div className="mt-2 md:max-w-md">
            <p className="mb-1 text-xs text-slate-500 dark:text-slate-400">
              Average progress {Math.round(course.average_progress)}%
            </p>
            <ProgressBar value={course.average_progress} label={`Average progress in ${course.title}`} />
          </div>
        </div>
        <nav aria-label={`${course.title} tools`} className="flex flex-wrap gap-1 md:flex-col md:items-end">
          <Link className={linkClass} to={`/teach/courses/${course.id}`}>
            Edit
          </Link>
          <Link className={linkClass} to={`/teach/activity?course=${course.id}`}>
            Live activity
          </Link>
          <Link className={linkClass} to={`/courses/${course.id}/discussions`}>
            Discussions
          </Link>
          <Link className={linkClass} to={`/courses/${course.id}/leaderboard`}>
            Leaderboard
          </Link>
        </nav>
      </Card>
    </li>
  )
}

export default function TeachingPage() {
  const courses = useResource((signal) => teachingCourses(signal), [])
  return (
    <section>
      <PageHeader
        title="My courses"
        actions={
          <Link
            to="/teach/courses/new"
            className="inline-flex items-center rounded-md bg-indigo-600 px-3 py-2 text-sm font-medium text-white hover:bg-indigo-500 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500"
          >
            New course
          </Link>
        }
      >
        Courses you teach, with their enrollments and progress.
      </PageHeader>
      {courses.error && courses.data && <ErrorMessage error={courses.error} onRetry={courses.reload} />}
      <Loaded resource={courses}>
        {(items) =>
          items.length === 0 ? (
            <Empty>
              You do not teach any course yet. <Link to="/teach/courses/new" className="underline">Create your first course</Link>.
            </Empty>
          ) : (
            <ul className="space-y-3">
              {items.map((course) => (
                <CourseRow key={course.id} course={course} />
              ))}
            </ul>
          )
        }
      </Loaded>
    </section>
  )
}
