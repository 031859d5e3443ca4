// Admin: every course (drafts included), filtered and paged, with a link to the editor and deletion.
import { useState } from 'react'
import { Link } from 'react-router'
import { Button, ErrorMessage, PageHeader, Spinner, formatDate } from '../../components/ui'
import { ApiError } from '../../lib/api'
import { useResource } from '../../lib/useResource'
import { deleteCourse, LEVELS, listCategories, listCourses, type Course } from '../courses/api'
import { Badge, ConfirmDialog, Notice, Pagination, Table, cell } from './components'
import { FilterForm, FilterSelect, FilterText } from './filters'
import { filterQuery } from './paging'
import { useListState } from './useListState'

const initialFilters = { category: '', level: '', search: '' }

export default function AdminCoursesPage() {
  const list = useListState(initialFilters)
  const { filters, skip, limit } = list
  const courses = useResource((signal) => listCourses({ ...filterQuery(filters), skip, limit }, signal), [filters, skip, limit])
  const categories = useResource((signal) => listCategories(signal), [])
  const [confirming, setConfirming] = useState<Course | null>(null)
  const [deleting, setDeleting] = useState(false)
  const [notice, setNotice] = useState<{ tone: 'ok' | 'error'; text: string } | null>(null)

  async function onDelete() {
    if (!confirming) return
    setDeleting(true)
    setNotice(null)
    try {
      await deleteCourse(confirming.id)
      setNotice({ tone: 'ok', text: `“${confirming.title}” was deleted.` })
      // A page past the new end would be empty: step back.
      const page = courses.data
      if (page && page.items.length === 1 && skip > 0) list.setSkip(Math.max(0, skip - limit))
      else courses.reload()
      categories.reload()
    } catch (error) {
      setNotice({ tone: 'error', text: error instanceof ApiError ? error.message : 'The course could not be deleted.' })
    } finally {
      setDeleting(false)
      setConfirming(null)
    }
  }

  const page = courses.data
  return (
    <div>
      <PageHeader
        title="All courses"
        actions={
          <Link to="/teach/courses/new" className="rounded-md bg-indigo-600 px-3 py-2 text-sm font-medium text-white hover:bg-indigo-500">
            New course
          </Link>
        }
      >
        Every course on the platform, published or draft.
      </PageHeader>
      <Notice notice={notice} onDismiss={() => setNotice(null)} />
      <FilterForm label="Filter courses">
        <FilterText list={list} name="search" label="Search" type="search" data-testid="admin-courses-search" />
        <FilterSelect
          list={list}
          name="category"
          label="Category"
          all="All categories"
          options={(categories.data ?? []).map((category) => ({ value: category.name, label: `${category.name} (${category.course_count})` }))}
        />
        <FilterSelect list={list} name="level" label="Level" all="All levels" options={LEVELS} />
      </FilterForm>

      {courses.error && <ErrorMessage error={courses.error} onRetry={courses.reload} />}
      {!page && !courses.error && <Spinner />}
      {page && (
        <div aria-busy={courses.loading}>
          {page.items.length === 0 ? (
            <p className="py-8 text-center text-sm text-slate-500 dark:text-slate-400">No course matches these filters.</p>
          ) : (
            <Table caption="Courses" head={['Course', 'Instructor', 'Category', 'Level', 'State', 'Lessons', 'Enrollments', 'Rating', 'Updated', 'Actions']}>
              {page.items.map((course) => (
                <tr key={course.id} data-testid="admin-course-row" data-course-id={course.id}>
                  <td className={`${cell} font-medium`}>
                    <Link to={`/courses/${course.id}`} className="text-indigo-700 hover:underline dark:text-indigo-300">
                      {course.title}
                    </Link>
                  </td>
                  <td className={cell}>{course.instructor}</td>
                  <td className={cell}>{course.category}</td>
                  <td className={cell}>{course.level}</td>
                  <td className={cell}>{course.is_published ? <Badge tone="green">Published</Badge> : <Badge tone="amber">Draft</Badge>}</td>
                  <td className={`${cell} tabular-nums`}>{course.lessonsCount}</td>
                  <td className={`${cell} tabular-nums`} data-testid="admin-course-enrollments">
                    {course.enrollment_count}
                  </td>
                  <td className={`${cell} whitespace-nowrap tabular-nums`}>
                    {course.average_rating === null ? '—' : `${course.average_rating.toFixed(1)} ★ (${course.rating_count})`}
                  </td>
                  <td className={`${cell} whitespace-nowrap`}>{formatDate(course.updated_at)}</td>
                  <td className={cell}>
                    <div className="flex flex-wrap gap-2">
                      <Link
                        to={`/teach/courses/${course.id}`}
                        className="rounded-md border border-slate-300 px-3 py-2 text-sm font-medium hover:bg-slate-100 dark:border-slate-600 dark:hover:bg-slate-800"
                        aria-label={`Edit ${course.title}`}
                      >
                        Edit
                      </Link>
                      <Button variant="danger" onClick={() => setConfirming(course)} aria-label={`Delete ${course.title}`} data-testid="admin-course-delete">
                        Delete
                      </Button>
                    </div>
                  </td>
                </tr>
              ))}
            </Table>
          )}
          <Pagination label="Courses" total={page.total} skip={skip} limit={limit} shown={page.items.length} onSkip={list.setSkip} onLimit={list.setLimit} />
        </div>
      )}

      <ConfirmDialog
        open={confirming !== null}
        title="Delete this course?"
        confirmLabel="Delete course"
        busy={deleting}
        onCancel={() => setConfirming(null)}
        onConfirm={() => void onDelete()}
      >
        {confirming && (
          <p>
            “{confirming.title}” will be removed with its lessons, progress and {confirming.enrollment_count} enrollment
            {confirming.enrollment_count === 1 ? '' : 's'}. This cannot be undone.
          </p>
        )}
      </ConfirmDialog>
    </div>
  )
}
