// The lesson player: syllabus with completed marks, the lesson (video or sanitized text), notes,
// mark complete, previous/next, and heartbeats while the learner is present.
import { useCallback, useState } from 'react'
import { Link, Navigate, useParams } from 'react-router'
import { Button, Card, ErrorMessage, PageHeader, Spinner, formatSeconds } from '../../components/ui'
import { ApiError } from '../../lib/api'
import { useChannel } from '../../lib/live'
import { useResource } from '../../lib/useResource'
import { useSession } from '../../lib/session'
import type { Progress } from '../learning/api'
import { getCourse } from '../courses/api'
import { lessonKind, loadLessons, loadProgress, markLesson, type Lesson } from './api'
import { videoSource } from './media'
import { useHeartbeats, type HeartbeatHandle } from './useHeartbeats'

function isAccessError(error: ApiError | null): boolean {
  return error !== null && (error.status === 403 || error.status === 404)
}

function EnrollFirst({ courseId, message }: { courseId: number; message: string }) {
  return (
    <Card className="mx-auto max-w-xl text-center">
      <h1 className="text-xl font-semibold">Enroll first</h1>
      <p className="mt-2 text-sm text-slate-600 dark:text-slate-400">{message}</p>
      <Link to={`/courses/${courseId}`} className="mt-4 inline-block rounded-md bg-indigo-600 px-3 py-2 text-sm font-medium text-white hover:bg-indigo-500">
        Go to the course page
      </Link>
    </Card>
  )
}

/** Sanitized HTML from the server. */
function ServerHtml({ html, className = '' }: { html: string; className?: string }) {
  // The server sanitizes lesson content and notes with nh3 (Ammonia) on write — no scripts, event
  // handlers or javascript: URLs — which is the only reason rendering it as HTML is acceptable here.
  return <div className={`lesson-html max-w-none space-y-3 leading-relaxed [&_a]:text-indigo-600 [&_a]:underline [&_h1]:text-2xl [&_h1]:font-semibold [&_h2]:text-xl [&_h2]:font-semibold [&_h3]:font-semibold [&_li]:ml-5 [&_ol]:list-decimal [&_pre]:overflow-x-auto [&_pre]:rounded [&_pre]:bg-slate-100 [&_pre]:p-3 dark:[&_pre]:bg-slate-800 [&_ul]:list-disc dark:[&_a]:text-indigo-400 ${className}`} dangerouslySetInnerHTML={{ __html: html }} />
}

function LessonBody({ lesson, heartbeats }: { lesson: Lesson; heartbeats: HeartbeatHandle }) {
  if (lesson.type === 'text') return <ServerHtml html={lesson.content ?? ''} />
  const source = videoSource(lesson.content ?? '')
  if (source.kind === 'invalid') return <ErrorMessage error="This video cannot be played." />
  return (
    <div className="aspect-video w-full overflow-hidden rounded-lg bg-black">
      {source.kind === 'embed' ? (
        <iframe
          key={source.src}
          src={source.src}
          title={lesson.title}
          className="h-full w-full"
          allow="accelerometer; autoplay; clipboard-write; encrypted-media; gyroscope; picture-in-picture; fullscreen"
          allowFullScreen
          referrerPolicy="strict-origin-when-cross-origin"
          sandbox="allow-scripts allow-same-origin allow-presentation allow-popups"
        />
      ) : (
        <video key={source.src} controls src={source.src} className="h-full w-full" onTimeUpdate={heartbeats.videoPlaying} onPlay={heartbeats.videoPlaying}>
          Your browser cannot play this video.
        </video>
      )}
    </div>
  )
}

export default function LessonPlayerPage() {
  const params = useParams()
  const courseId = Number(params.courseId)
  const lessonId = params.lessonId ?? null
  const { user } = useSession()

  const content = useResource(async (signal) => {
    const [course, lessons] = await Promise.all([getCourse(courseId, signal), loadLessons(courseId, signal)])
    return { course, lessons }
  }, [courseId])
  const progress = useResource((signal) => loadProgress(courseId, signal), [courseId])
  // Seconds the server credited since `progress` was loaded (the workers fold them in shortly).
  const [credited, setCredited] = useState<Record<string, number>>({})
  const [marking, setMarking] = useState(false)
  const [markError, setMarkError] = useState<ApiError | null>(null)

  const setProgress = progress.setData
  const applyProgress = useCallback(
    (next: Progress) => {
      setProgress(() => next)
      setCredited({})
    },
    [setProgress],
  )

  const lessons = content.data?.lessons ?? []
  const lesson = lessons.find((item) => item.id === lessonId) ?? null
  // Everyone who sees the course gets a progress record (empty unless enrolled); only an enrolled
  // learner's counts. Owners and admins who are not enrolled preview.
  const enrolled = content.data?.course.is_enrolled ?? false
  const learner = enrolled && progress.data !== undefined
  const heartbeats = useHeartbeats(courseId, lesson?.id ?? null, learner && lesson !== null, (id, seconds) =>
    setCredited((current) => ({ ...current, [id]: (current[id] ?? 0) + seconds })),
  )

  const reloadProgress = progress.reload
  useChannel(user ? `user:${user.id}` : null, {
    onPublication(publication) {
      const data = publication.data as { course_id?: unknown; progress?: unknown }
      if (data?.course_id !== courseId) return
      if (!['progress.updated', 'course.completed', 'course.reopened'].includes(publication.event)) return
      // Our own changes arrive here too; refetch only when another tab or device changed something.
      if (typeof data.progress === 'number' && data.progress === progress.data?.progress_percentage) return
      if (publication.event === 'course.completed' && progress.data?.completed_at) return
      reloadProgress()
    },
    onRecoveryFailed: reloadProgress,
  })

  if (!Number.isInteger(courseId) || courseId <= 0) return <EnrollFirst courseId={courseId} message="No such course." />
  if (isAccessError(content.error) && content.data === undefined) {
    return <EnrollFirst courseId={courseId} message={content.error?.code === 'not_enrolled' ? 'Enroll in this course to open its lessons.' : 'This course is not available to you.'} />
  }
  if (content.error && content.data === undefined) return <ErrorMessage error={content.error} onRetry={content.reload} />
  if (!content.data) return <Spinner label="Loading the lesson…" />
  const { course } = content.data
  if (lessons.length === 0) {
    return (
      <>
        <PageHeader title={course.title} />
        <Card>This course has no lessons yet.</Card>
      </>
    )
  }
  if (lesson === null) {
    if (lessonId !== null) {
      return (
        <Card>
          <p>This lesson does not exist (any more).</p>
          <Link className="mt-2 inline-block text-indigo-600 underline dark:text-indigo-400" to={`/courses/${courseId}/learn`}>
            Open the course's first lesson
          </Link>
        </Card>
      )
    }
    if (progress.loading && progress.data === undefined) return <Spinner label="Loading the lesson…" />
    const done = new Set(progress.data?.completed_lessons ?? [])
    const next = lessons.find((item) => !done.has(item.id)) ?? lessons[0]!
    return <Navigate replace to={`/courses/${courseId}/learn/${next.id}`} />
  }

  const completed = new Set(progress.data?.completed_lessons ?? [])
  const isDone = completed.has(lesson.id)
  const index = lessons.indexOf(lesson)
  const previous = lessons[index - 1]
  const next = lessons[index + 1]
  const timeSpent = (progress.data?.lesson_times[lesson.id] ?? 0) + (credited[lesson.id] ?? 0)
  const previewOnly = content.data !== undefined && !enrolled

  async function toggleComplete() {
    if (!lesson) return
    setMarking(true)
    setMarkError(null)
    try {
      applyProgress(await markLesson(courseId, lesson.id, !isDone))
    } catch (error) {
      setMarkError(error instanceof ApiError ? error : new ApiError(0, 'error', String(error)))
    } finally {
      setMarking(false)
    }
  }

  return (
    <div className="grid gap-6 md:grid-cols-[18rem_minmax(0,1fr)]">
      <aside className="md:sticky md:top-4 md:self-start">
        <div className="rounded-lg border border-slate-200 bg-white shadow-sm dark:border-slate-800 dark:bg-slate-900">
          <div className="border-b border-slate-200 p-4 dark:border-slate-800">
            <Link to={`/courses/${courseId}`} className="font-semibold hover:underline">
              {course.title}
            </Link>
            {learner && progress.data && (
              <p className="mt-1 text-xs text-slate-500 dark:text-slate-400">
                {progress.data.completed_lessons.length} of {progress.data.total_lessons} lessons · {Math.round(progress.data.progress_percentage)}%
              </p>
            )}
          </div>
          <nav aria-label="Syllabus">
            <ol className="max-h-[60vh] overflow-y-auto p-2">
              {lessons.map((item, position) => {
                const current = item.id === lesson.id
                const done = completed.has(item.id)
                return (
                  <li key={item.id}>
                    <Link
                      to={`/courses/${courseId}/learn/${item.id}`}
                      aria-current={current ? 'page' : undefined}
                      className={`flex items-start gap-2 rounded-md px-2 py-2 text-sm ${current ? 'bg-indigo-50 font-medium text-indigo-700 dark:bg-indigo-950 dark:text-indigo-200' : 'hover:bg-slate-100 dark:hover:bg-slate-800'}`}
                    >
                      <span aria-hidden className={`mt-0.5 inline-flex h-5 w-5 shrink-0 items-center justify-center rounded-full text-xs ${done ? 'bg-emerald-600 text-white' : 'border border-slate-300 dark:border-slate-600'}`}>
                        {done ? '✓' : position + 1}
                      </span>
                      <span className="min-w-0 flex-1">
                        {item.title}
                        <span className="block text-xs text-slate-500 dark:text-slate-400">
                          {lessonKind(item)}
                        </span>
                      </span>
                      {done && <span className="sr-only">(completed)</span>}
                    </Link>
                  </li>
                )
              })}
            </ol>
          </nav>
          <div className="flex gap-3 border-t border-slate-200 p-3 text-sm dark:border-slate-800">
            <Link to={`/courses/${courseId}/discussions`} className="text-indigo-600 hover:underline dark:text-indigo-400">
              Discussions
            </Link>
            <Link to={`/courses/${courseId}/leaderboard`} className="text-indigo-600 hover:underline dark:text-indigo-400">
              Leaderboard
            </Link>
          </div>
        </div>
      </aside>

      <article className="min-w-0 space-y-4">
        <header>
          <p className="text-sm text-slate-500 dark:text-slate-400">
            Lesson {index + 1} of {lessons.length} · {lessonKind(lesson)}
          </p>
          <h1 className="text-2xl font-semibold tracking-tight">{lesson.title}</h1>
        </header>

        <LessonBody lesson={lesson} heartbeats={heartbeats} />

        {lesson.notes && (
          <Card>
            <h2 className="mb-2 text-sm font-semibold uppercase tracking-wide text-slate-500 dark:text-slate-400">Notes</h2>
            <ServerHtml html={lesson.notes} className="text-sm" />
          </Card>
        )}

        <Card className="flex flex-wrap items-center gap-4">
          {learner && progress.data ? (
            <>
              <Button data-testid="lesson-mark-complete" variant={isDone ? 'secondary' : 'primary'} onClick={() => void toggleComplete()} disabled={marking} aria-pressed={isDone}>
                {isDone ? 'Mark not complete' : 'Mark complete'}
              </Button>
              <p className="text-sm text-slate-600 dark:text-slate-400">
                Time on this lesson: <span data-testid="lesson-time-spent" className="font-medium text-slate-900 dark:text-slate-100">{formatSeconds(timeSpent)}</span>
              </p>
              {progress.data.completed_at && <p className="text-sm font-medium text-emerald-700 dark:text-emerald-400">Course completed 🎉</p>}
            </>
          ) : previewOnly ? (
            <p className="text-sm text-slate-600 dark:text-slate-400">Preview: progress and time are recorded for enrolled learners only.</p>
          ) : progress.error ? (
            <ErrorMessage error={progress.error} onRetry={progress.reload} />
          ) : (
            <Spinner label="Loading your progress…" />
          )}
          {markError && <ErrorMessage error={markError} />}
        </Card>

        <nav aria-label="Lesson navigation" className="flex justify-between gap-4">
          {previous ? (
            <Link to={`/courses/${courseId}/learn/${previous.id}`} className="rounded-md border border-slate-300 px-3 py-2 text-sm hover:bg-slate-100 dark:border-slate-600 dark:hover:bg-slate-800">
              ← {previous.title}
            </Link>
          ) : (
            <span />
          )}
          {next && (
            <Link to={`/courses/${courseId}/learn/${next.id}`} className="rounded-md bg-indigo-600 px-3 py-2 text-sm font-medium text-white hover:bg-indigo-500">
              {next.title} →
            </Link>
          )}
        </nav>
      </article>
    </div>
  )
}
