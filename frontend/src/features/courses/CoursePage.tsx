import { useEffect, useState, type FormEvent } from 'react'
import { Link, useNavigate, useParams } from 'react-router'
import { Button, Card, Empty, ErrorMessage, Loaded, ProgressBar, SelectField, TextArea, formatDate } from '../../components/ui'
import { api } from '../../lib/client'
import { useSession } from '../../lib/session'
import { useAction } from '../../lib/useAction'
import { useResource } from '../../lib/useResource'
import { enroll, getCourse, listRatings, rateCourse, unenroll, type CourseDetail } from './api'
import { Stars } from './CourseCard'
import { lessonKind } from '../lessons/api'

interface Progress {
  completed_lessons: string[]
  progress_percentage: number
  total_seconds_spent: number
  completed_at: string | null
}

export default function CoursePage() {
  const { courseId = '' } = useParams()
  const { user } = useSession()
  const navigate = useNavigate()
  const course = useResource((signal) => getCourse(courseId, signal), [courseId, user?.id])
  const { busy, error: actionError, run: runAction } = useAction()
  const run = async (action: () => Promise<unknown>) => {
    if (await runAction(async () => void (await action()))) course.reload()
  }

  return (
    <Loaded resource={course}>
      {(detail) => {
        const isOwner = user !== null && (user.id === detail.instructor_id || user.role === 'admin')
        const firstLesson = detail.lessons[0]
        const learnLink = firstLesson ? `/courses/${detail.id}/learn/${firstLesson.id}` : `/courses/${detail.id}/learn`
        return (
          <div className="grid gap-6 lg:grid-cols-3">
            <div className="space-y-6 lg:col-span-2">
              <header>
                <div className="mb-2 flex flex-wrap gap-2 text-xs">
                  <span className="rounded bg-slate-100 px-2 py-0.5 dark:bg-slate-800">{detail.category}</span>
                  <span className="rounded bg-slate-100 px-2 py-0.5 dark:bg-slate-800">{detail.level}</span>
                  {detail.duration && <span className="rounded bg-slate-100 px-2 py-0.5 dark:bg-slate-800">{detail.duration}</span>}
                  {!detail.is_published && <span className="rounded bg-amber-100 px-2 py-0.5 text-amber-900">Draft</span>}
                </div>
                <h1 className="text-3xl font-bold tracking-tight">{detail.title}</h1>
                <p className="mt-2 text-sm text-slate-600 dark:text-slate-400">
                  By {detail.instructor} · {detail.enrollment_count} learners · <Stars rating={detail.average_rating} count={detail.rating_count} />
                </p>
              </header>
              <p className="whitespace-pre-line">{detail.description}</p>
              <section aria-labelledby="syllabus">
                <h2 id="syllabus" className="mb-2 text-lg font-semibold">
                  Syllabus
                </h2>
                {detail.lessons.length === 0 ? (
                  <Empty>No lessons yet.</Empty>
                ) : (
                  <ol className="divide-y divide-slate-200 rounded-lg border border-slate-200 dark:divide-slate-800 dark:border-slate-800">
                    {detail.lessons.map((lesson, index) => (
                      <li key={lesson.id} className="flex items-center justify-between gap-4 px-4 py-2 text-sm">
                        <span>
                          {index + 1}. {detail.is_enrolled || isOwner ? <Link className="hover:underline" to={`/courses/${detail.id}/learn/${lesson.id}`}>{lesson.title}</Link> : lesson.title}
                        </span>
                        <span className="shrink-0 text-xs text-slate-500">
                          {lessonKind(lesson)}
                        </span>
                      </li>
                    ))}
                  </ol>
                )}
              </section>
              <Ratings course={detail} canRate={detail.is_enrolled && user?.role === 'learner'} />
            </div>
            <aside className="space-y-4">
              <Card className="space-y-3">
                {actionError !== null && <ErrorMessage error={actionError} />}
                {!user && (
                  <Button className="w-full" onClick={() => navigate(`/login?next=/courses/${detail.id}`)}>
                    Sign in to enroll
                  </Button>
                )}
                {user && detail.is_enrolled && <EnrolledPanel courseId={detail.id} />}
                {user && detail.is_enrolled && (
                  <Link data-testid="course-start-learning" to={learnLink} className="block rounded-md bg-indigo-600 px-3 py-2 text-center text-sm font-medium text-white hover:bg-indigo-500">
                    Continue learning
                  </Link>
                )}
                {user && !detail.is_enrolled && !isOwner && detail.is_published && (
                  <Button data-testid="course-enroll" className="w-full" disabled={busy || user.is_blocked} onClick={() => run(() => enroll(detail.id))}>
                    {busy ? 'Enrolling…' : 'Enroll'}
                  </Button>
                )}
                {user?.is_blocked && <p className="text-xs text-rose-600">Your account is blocked: you cannot enroll.</p>}
                {(detail.is_enrolled || isOwner) && (
                  <nav aria-label="Course" className="flex flex-col gap-1 text-sm">
                    <Link className="text-indigo-600 underline dark:text-indigo-400" to={`/courses/${detail.id}/discussions`}>
                      Discussions
                    </Link>
                    {(detail.is_leaderboard_public || isOwner) && (
                      <Link className="text-indigo-600 underline dark:text-indigo-400" to={`/courses/${detail.id}/leaderboard`}>
                        Leaderboard
                      </Link>
                    )}
                  </nav>
                )}
                {isOwner && (
                  <Link to={`/teach/courses/${detail.id}`} className="block text-sm text-indigo-600 underline dark:text-indigo-400">
                    Edit this course
                  </Link>
                )}
                {user && detail.is_enrolled && (
                  <Button
                    variant="ghost"
                    className="w-full text-xs"
                    disabled={busy}
                    onClick={() => {
                      if (window.confirm('Leave this course? Your progress in it will be deleted.')) void run(() => unenroll(detail.id))
                    }}
                  >
                    Leave course
                  </Button>
                )}
              </Card>
            </aside>
          </div>
        )
      }}
    </Loaded>
  )
}

function EnrolledPanel({ courseId }: { courseId: number }) {
  const progress = useResource((signal) => api.get<Progress>(`/api/courses/${courseId}/progress`, undefined, signal), [courseId])
  if (!progress.data) return null
  const percent = progress.data.progress_percentage
  return (
    <div className="space-y-1 text-sm">
      <div className="flex justify-between">
        <span>{progress.data.completed_at ? 'Completed' : 'Your progress'}</span>
        <span>{Math.round(percent)}%</span>
      </div>
      <ProgressBar value={percent} label="Course progress" />
    </div>
  )
}

function Ratings({ course, canRate }: { course: CourseDetail; canRate: boolean }) {
  const { user } = useSession()
  const ratings = useResource((signal) => listRatings(course.id, signal), [course.id])
  const [stars, setStars] = useState(5)
  const [review, setReview] = useState('')
  const mine = ratings.data?.items.find((rating) => rating.user_id === user?.id)
  useEffect(() => {
    // Start the form from the learner's existing rating: saving replaces it.
    if (mine) {
      setStars(mine.stars)
      setReview(mine.review ?? '')
    }
  }, [mine])
  const { busy, error, run } = useAction()
  const [saved, setSaved] = useState(false)

  async function submit(event: FormEvent) {
    event.preventDefault()
    await run(async () => {
      await rateCourse(course.id, stars, review)
      setSaved(true)
      ratings.reload()
    })
  }

  return (
    <section aria-labelledby="ratings" className="space-y-3">
      <h2 id="ratings" className="text-lg font-semibold">
        Ratings
      </h2>
      {canRate && (
        <Card>
          <form onSubmit={submit} className="space-y-3">
            {error && <ErrorMessage error={error} />}
            <SelectField label="Your rating" value={stars} onChange={(e) => setStars(Number(e.target.value))}>
              {[5, 4, 3, 2, 1].map((value) => (
                <option key={value} value={value}>
                  {'★'.repeat(value)} ({value})
                </option>
              ))}
            </SelectField>
            <TextArea label="Review (optional)" rows={3} maxLength={5000} value={review} onChange={(e) => setReview(e.target.value)} />
            <Button type="submit" disabled={busy}>
              {mine ? 'Update rating' : 'Save rating'}
            </Button>
            {saved && <span className="ml-3 text-sm text-emerald-700">Saved.</span>}
          </form>
        </Card>
      )}
      <Loaded resource={ratings}>
        {({ items }) =>
          items.length === 0 ? (
            <Empty>No ratings yet.</Empty>
          ) : (
            <ul className="space-y-2">
              {items.map((rating) => (
                <li key={rating.id} className="rounded-md border border-slate-200 p-3 text-sm dark:border-slate-800">
                  <div className="flex justify-between">
                    <span className="font-medium">{rating.name}</span>
                    <span aria-label={`${rating.stars} stars`} className="text-amber-600">
                      {'★'.repeat(rating.stars)}
                    </span>
                  </div>
                  {rating.review && <p className="mt-1 whitespace-pre-line">{rating.review}</p>}
                  <p className="mt-1 text-xs text-slate-500">{formatDate(rating.created_at)}</p>
                </li>
              ))}
            </ul>
          )
        }
      </Loaded>
    </section>
  )
}
