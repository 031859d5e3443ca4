import { useSearchParams } from 'react-router'
import { Button, Empty, Loaded, PageHeader, SelectField, TextField } from '../../components/ui'
import { useResource } from '../../lib/useResource'
import { LEVELS, listCategories, listCourses } from './api'
import { CourseCard } from './CourseCard'
import { useDebounced } from './useDebounced'

const PAGE_SIZE = 12

/** Published courses (plus your drafts, by role), with search, category and level in the URL. */
export default function CatalogPage() {
  const [params, setParams] = useSearchParams()
  const search = params.get('search') ?? ''
  const category = params.get('category') ?? ''
  const level = params.get('level') ?? ''
  const page = Math.max(0, Number(params.get('page') ?? 0) || 0)
  const debouncedSearch = useDebounced(search)

  const update = (changes: Record<string, string>) => {
    const next = new URLSearchParams(params)
    for (const [key, value] of Object.entries(changes)) {
      if (value) next.set(key, value)
      else next.delete(key)
    }
    if (!('page' in changes)) next.delete('page')
    setParams(next, { replace: true })
  }

  const categories = useResource((signal) => listCategories(signal), [])
  const courses = useResource(
    (signal) => listCourses({ search: debouncedSearch, category, level, skip: page * PAGE_SIZE, limit: PAGE_SIZE }, signal),
    [debouncedSearch, category, level, page],
  )
  const total = courses.data?.total ?? 0
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE))

  return (
    <>
      <PageHeader title="Course catalogue">{courses.data ? `${total} course${total === 1 ? '' : 's'}` : ' '}</PageHeader>
      <form role="search" className="mb-6 grid gap-4 sm:grid-cols-3" onSubmit={(event) => event.preventDefault()}>
        <TextField label="Search courses" type="search" value={search} onChange={(e) => update({ search: e.target.value })} placeholder="Title or description" />
        <SelectField label="Category" value={category} onChange={(e) => update({ category: e.target.value })}>
          <option value="">All categories</option>
          {categories.data?.map((item) => (
            <option key={item.name} value={item.name}>
              {item.name} ({item.course_count})
            </option>
          ))}
        </SelectField>
        <SelectField label="Level" value={level} onChange={(e) => update({ level: e.target.value })}>
          <option value="">All levels</option>
          {LEVELS.map((item) => (
            <option key={item}>{item}</option>
          ))}
        </SelectField>
      </form>
      <Loaded resource={courses}>
        {({ items }) =>
          items.length === 0 ? (
            <Empty>No course matches these filters.</Empty>
          ) : (
            <ul aria-busy={courses.loading} className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
              {items.map((course) => (
                <CourseCard key={course.id} course={course} />
              ))}
            </ul>
          )
        }
      </Loaded>
      {pages > 1 && (
        <nav aria-label="Pages" className="mt-6 flex items-center justify-center gap-3 text-sm">
          <Button variant="secondary" disabled={page === 0} onClick={() => update({ page: String(page - 1) })}>
            Previous
          </Button>
          <span>
            Page {page + 1} of {pages}
          </span>
          <Button variant="secondary" disabled={page + 1 >= pages} onClick={() => update({ page: String(page + 1) })}>
            Next
          </Button>
        </nav>
      )}
    </>
  )
}
