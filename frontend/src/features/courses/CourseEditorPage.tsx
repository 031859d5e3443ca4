// /teach/courses/new and /teach/courses/:courseId — the course form, publishing, deletion and lessons.
import { Link, useNavigate, useParams } from 'react-router'
import { Button, Card, ErrorMessage, Loaded, PageHeader } from '../../components/ui'
import { useAction } from '../../lib/useAction'
import { useResource } from '../../lib/useResource'
import { deleteCourse, getCourse, type Course } from './api'
import { createCourse, updateCourse, type CourseFlags } from './EditorApi'
import { EditorCourseForm } from './EditorCourseForm'
import { EditorLessons } from './EditorLessons'
import { TeachingBadge } from './TeachingBadge'

function NewCourse() {
  const navigate = useNavigate()
  return (
    <section>
      <PageHeader title="New course" actions={<BackLink />}>
        A new course starts as a draft; add lessons, then publish it.
      </PageHeader>
      <Card>
        <EditorCourseForm
          submitLabel="Create course"
          onSubmit={async (body) => {
            const course = await createCourse(body)
            navigate(`/teach/courses/${course.id}`, { replace: true })
          }}
        />
      </Card>
    </section>
  )
}

function BackLink() {
  return (
    <Link to="/teach" className="text-sm font-medium text-indigo-700 hover:underline dark:text-indigo-300">
      ← My courses
    </Link>
  )
}

function CourseActions({ course, onChange }: { course: Course; onChange(course: Course): void }) {
  const navigate = useNavigate()
  // The raw failure: ErrorMessage shows any error's own message.
  const { busy, error, run } = useAction<unknown>((reason) => reason)

  const flag = (changes: CourseFlags) => run(async () => onChange(await updateCourse(course.id, changes)))
  const remove = () => {
    const question = `Delete “${course.title}” with its lessons, enrollments and progress? This cannot be undone.`
    if (!window.confirm(question)) return
    void run(async () => {
      await deleteCourse(course.id)
      navigate('/teach', { replace: true })
    })
  }

  return (
    <Card className="space-y-3">
      <h2 className="text-lg font-semibold">Publishing</h2>
      <p className="flex items-center gap-2 text-sm">
        Status: <TeachingBadge published={course.is_published} />
      </p>
      <div className="flex flex-wrap gap-2">
        <Button
          variant={course.is_published ? 'secondary' : 'primary'}
          disabled={busy}
          onClick={() => void flag({ is_published: !course.is_published })}
          data-testid="editor-publish"
        >
          {course.is_published ? 'Unpublish' : 'Publish'}
        </Button>
        <Button variant="secondary" disabled={busy} onClick={() => void flag({ is_leaderboard_public: !course.is_leaderboard_public })}>
          {course.is_leaderboard_public ? 'Make leaderboard private' : 'Make leaderboard public'}
        </Button>
        <Button variant="danger" disabled={busy} onClick={remove}>
          Delete course
        </Button>
      </div>
      <p className="text-xs text-slate-500 dark:text-slate-400">
        {course.is_leaderboard_public
          ? 'Enrolled learners can see the leaderboard.'
          : 'Only you and admins can see the leaderboard.'}
      </p>
      {error !== null && <ErrorMessage error={error} />}
      <nav aria-label="Course tools" className="flex flex-wrap gap-3 pt-2 text-sm">
        <Link className="text-indigo-700 hover:underline dark:text-indigo-300" to={`/courses/${course.id}`}>
          View course page
        </Link>
        <Link className="text-indigo-700 hover:underline dark:text-indigo-300" to={`/teach/activity?course=${course.id}`}>
          Live activity
        </Link>
        <Link className="text-indigo-700 hover:underline dark:text-indigo-300" to={`/courses/${course.id}/discussions`}>
          Discussions
        </Link>
      </nav>
    </Card>
  )
}

function EditCourse({ courseId }: { courseId: number }) {
  const course = useResource<Course>((signal) => getCourse(courseId, signal), [courseId])
  const replace = (next: Course) => course.setData(() => next)
  return (
    <section>
      <Loaded resource={course}>
        {(data) => (
          <>
            <PageHeader title={data.title} actions={<BackLink />}>
              {data.category} · {data.level}
            </PageHeader>
            <div className="grid gap-6 lg:grid-cols-[2fr_1fr]">
              <div className="space-y-6">
                <Card>
                  <h2 className="mb-3 text-lg font-semibold">Details</h2>
                  {/* keyed by id so a different course starts from its own values */}
                  <EditorCourseForm
                    key={data.id}
                    initial={data}
                    submitLabel="Save changes"
                    onSubmit={async (body) => replace(await updateCourse(data.id, body))}
                  />
                </Card>
                <EditorLessons courseId={data.id} />
              </div>
              <div>
                <CourseActions course={data} onChange={replace} />
              </div>
            </div>
          </>
        )}
      </Loaded>
    </section>
  )
}

export default function CourseEditorPage() {
  const { courseId } = useParams()
  if (courseId === undefined) return <NewCourse />
  const id = Number(courseId)
  if (!Number.isInteger(id) || id <= 0) return <ErrorMessage error="There is no such course." />
  return <EditCourse courseId={id} />
}
