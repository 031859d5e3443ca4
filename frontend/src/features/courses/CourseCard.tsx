import { Link } from 'react-router'
import type { Course } from './api'

export function Stars({ rating, count }: { rating: number | null; count: number }) {
  if (rating === null) return <span className="text-xs text-slate-500">No ratings yet</span>
  return (
    <span className="text-xs text-amber-700 dark:text-amber-300" aria-label={`Rated ${rating.toFixed(1)} out of 5 by ${count}`}>
      ★ {rating.toFixed(1)} <span className="text-slate-500">({count})</span>
    </span>
  )
}

export function CourseCard({ course }: { course: Course }) {
  return (
    <li data-testid="course-card" data-course-id={course.id} className="flex flex-col overflow-hidden rounded-lg border border-slate-200 bg-white shadow-sm dark:border-slate-800 dark:bg-slate-900">
      {course.thumbnail_url ? (
        <img src={course.thumbnail_url} alt="" className="h-36 w-full object-cover" loading="lazy" />
      ) : (
        <div aria-hidden className="flex h-36 items-center justify-center bg-gradient-to-br from-indigo-500 to-sky-500 text-3xl font-bold text-white">
          {course.title.slice(0, 1)}
        </div>
      )}
      <div className="flex flex-1 flex-col gap-2 p-4">
        <div className="flex flex-wrap gap-2 text-xs">
          <span className="rounded bg-slate-100 px-2 py-0.5 dark:bg-slate-800">{course.category}</span>
          <span className="rounded bg-slate-100 px-2 py-0.5 dark:bg-slate-800">{course.level}</span>
          {!course.is_published && <span className="rounded bg-amber-100 px-2 py-0.5 text-amber-900">Draft</span>}
          {course.is_enrolled && <span className="rounded bg-emerald-100 px-2 py-0.5 text-emerald-900">Enrolled</span>}
        </div>
        <h2 className="text-base font-semibold">
          <Link to={`/courses/${course.id}`} className="hover:underline">
            {course.title}
          </Link>
        </h2>
        <p className="line-clamp-2 text-sm text-slate-600 dark:text-slate-400">{course.description}</p>
        <div className="mt-auto flex items-center justify-between pt-2 text-xs text-slate-500">
          <span>{course.instructor}</span>
          <Stars rating={course.average_rating} count={course.rating_count} />
        </div>
        <div className="text-xs text-slate-500">
          {course.lessonsCount} lessons · {course.enrollment_count} learners
        </div>
      </div>
    </li>
  )
}
