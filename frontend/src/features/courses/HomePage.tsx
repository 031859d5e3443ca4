import { Link } from 'react-router'
import { Empty, Loaded } from '../../components/ui'
import { useSession } from '../../lib/session'
import { useResource } from '../../lib/useResource'
import { listCourses } from './api'
import { CourseCard } from './CourseCard'

export default function HomePage() {
  const { user } = useSession()
  const courses = useResource((signal) => listCourses({ limit: 6 }, signal), [])
  return (
    <>
      <section className="mb-10 rounded-2xl bg-gradient-to-br from-indigo-600 to-sky-600 px-6 py-12 text-white sm:px-10">
        <h1 className="text-3xl font-bold tracking-tight sm:text-4xl">Learn together, live.</h1>
        <p className="mt-3 max-w-2xl text-indigo-50">
          Courses with discussions, messages and leaderboards that update as they happen — and progress that keeps up with you.
        </p>
        <div className="mt-6 flex flex-wrap gap-3">
          <Link to="/courses" className="rounded-md bg-white px-4 py-2 font-medium text-indigo-700 hover:bg-indigo-50">
            Browse courses
          </Link>
          {user ? (
            <Link to="/dashboard" className="rounded-md border border-white/60 px-4 py-2 font-medium hover:bg-white/10">
              Go to your dashboard
            </Link>
          ) : (
            <Link to="/register" className="rounded-md border border-white/60 px-4 py-2 font-medium hover:bg-white/10">
              Create a free account
            </Link>
          )}
        </div>
      </section>
      <h2 className="mb-4 text-xl font-semibold">Popular courses</h2>
      <Loaded resource={courses}>
        {({ items }) =>
          items.length === 0 ? (
            <Empty>No published courses yet.</Empty>
          ) : (
            <ul className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
              {items.map((course) => (
                <CourseCard key={course.id} course={course} />
              ))}
            </ul>
          )
        }
      </Loaded>
    </>
  )
}
