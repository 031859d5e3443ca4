// /teach/activity: live activity of one of my courses, or of each of them (one section per course).
import { useSearchParams } from 'react-router'
import { Empty, Loaded, PageHeader, SelectField } from '../../components/ui'
import { useResource } from '../../lib/useResource'
import { teachingCourses } from '../courses/api'
import { ActivityCourse } from './ActivityCourse'

/** "All" watches at most this many courses at once (the hub caps subscriptions per connection). */
const MAX_WATCHED = 20

export default function ActivityPage() {
  const courses = useResource((signal) => teachingCourses(signal), [])
  const [params, setParams] = useSearchParams()
  const selected = params.get('course') ?? 'all'

  return (
    <section>
      <PageHeader title="Live activity">Who is learning in your courses right now, and on which lesson.</PageHeader>
      <Loaded resource={courses}>
        {(items) => {
          if (items.length === 0) return <Empty>You do not teach any course yet.</Empty>
          const chosen = selected === 'all' ? items.slice(0, MAX_WATCHED) : items.filter((course) => String(course.id) === selected)
          return (
            <div className="space-y-4">
              <div className="max-w-sm">
                <SelectField
                  label="Course"
                  value={selected}
                  onChange={(event) => setParams(event.target.value === 'all' ? {} : { course: event.target.value }, { replace: true })}
                >
                  <option value="all">All my courses</option>
                  {items.map((course) => (
                    <option key={course.id} value={String(course.id)}>
                      {course.title}
                    </option>
                  ))}
                </SelectField>
              </div>
              {selected === 'all' && items.length > MAX_WATCHED && (
                <p className="text-sm text-slate-500">Showing the first {MAX_WATCHED} courses; pick one to watch another.</p>
              )}
              {chosen.length === 0 ? (
                <Empty>That course is not one of yours.</Empty>
              ) : (
                chosen.map((course) => <ActivityCourse key={course.id} courseId={course.id} title={course.title} />)
              )}
            </div>
          )
        }}
      </Loaded>
    </section>
  )
}
