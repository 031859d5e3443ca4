// Reports for admins and instructors (the server scopes instructors to their courses): courses, students,
// users (admins only) and activity, each with its filters, a paged table and a CSV download.
import { useRef, type KeyboardEvent } from 'react'
import { useSearchParams } from 'react-router'
import { PageHeader, ProgressBar, formatDate, formatSeconds } from '../../components/ui'
import { useSession } from '../../lib/session'
import { fullName, type User } from '../../lib/types'
import { useResource } from '../../lib/useResource'
import { LEVELS, listCategoryNames, teachingCourses } from '../courses/api'
import { listUsers } from './api'
import { AuditCells, AuditFilterForm, auditHead, initialAuditFilters } from './audit'
import { Badge, cell } from './components'
import { FilterForm, FilterInput, FilterSelect, FilterText, YES_NO } from './filters'
import { ReportTable } from './ReportTable'
import { ROLES, type AuditEntry, type CourseReportRow, type StudentReportRow, type UserReportRow } from './types'
import { useListState } from './useListState'

type TabId = 'courses' | 'students' | 'users' | 'activity'

const TABS: { id: TabId; label: string; adminOnly?: boolean }[] = [
  { id: 'courses', label: 'Courses' },
  { id: 'students', label: 'Students' },
  { id: 'users', label: 'Users', adminOnly: true },
  { id: 'activity', label: 'Activity' },
]

const percent = (value: number) => `${value.toFixed(1)}%`

const initialCourseFilters = { search: '', category: '', level: '', is_published: '', instructor_id: '' }

function CoursesReport({ isAdmin }: { isAdmin: boolean }) {
  const list = useListState(initialCourseFilters)
  const categories = useResource((signal) => listCategoryNames(signal), [])
  const instructors = useResource(
    (signal) => (isAdmin ? listUsers({ role: 'instructor', limit: 100 }, signal).then((page) => page.items) : Promise.resolve([] as User[])),
    [isAdmin],
  )
  return (
    <>
      <FilterForm wide label="Filter the courses report">
        <FilterText list={list} name="search" label="Search title or description" type="search" />
        <FilterSelect list={list} name="category" label="Category" all="All categories" options={categories.data ?? []} />
        <FilterSelect list={list} name="level" label="Level" all="All levels" options={LEVELS} />
        <FilterSelect list={list} name="is_published" label="Published" options={YES_NO} />
        {isAdmin && (
          <FilterSelect
            list={list}
            name="instructor_id"
            label="Instructor"
            all="All instructors"
            options={(instructors.data ?? []).map((user) => ({ value: user.id, label: fullName(user) }))}
          />
        )}
      </FilterForm>
      <ReportTable<CourseReportRow, typeof initialCourseFilters>
        title="Courses report"
        path="/api/reports/courses"
        fallbackName="learnflow-courses.csv"
        list={list}
        empty="No course matches these filters."
        head={['Course', 'Instructor', 'Category', 'Level', 'State', 'Enrollments', 'Completions', 'Avg progress', 'Rating', 'Time spent']}
        rowKey={(row) => row.id}
        row={(row) => (
          <>
            <td className={`${cell} font-medium`}>{row.title}</td>
            <td className={cell}>{row.instructor_name}</td>
            <td className={cell}>{row.category}</td>
            <td className={cell}>{row.level}</td>
            <td className={cell}>{row.is_published ? <Badge tone="green">Published</Badge> : <Badge tone="amber">Draft</Badge>}</td>
            <td className={`${cell} tabular-nums`}>{row.enrollments}</td>
            <td className={`${cell} tabular-nums`}>
              {row.completions} <span className="text-xs text-slate-500">({percent(row.completion_rate)})</span>
            </td>
            <td className={`${cell} tabular-nums`}>{percent(row.average_progress)}</td>
            <td className={`${cell} whitespace-nowrap tabular-nums`}>{row.average_rating === null ? '—' : `${row.average_rating.toFixed(1)} ★ (${row.rating_count})`}</td>
            <td className={`${cell} whitespace-nowrap tabular-nums`}>{formatSeconds(row.time_spent_seconds)}</td>
          </>
        )}
      />
    </>
  )
}

const initialStudentFilters = { search: '', course_id: '', completed: '', min_progress: '', user_id: '' }

function StudentsReport() {
  const list = useListState(initialStudentFilters)
  const courses = useResource((signal) => teachingCourses(signal), [])
  return (
    <>
      <FilterForm wide label="Filter the students report">
        <FilterText list={list} name="search" label="Search name or email" type="search" />
        <FilterSelect list={list} name="course_id" label="Course" all="All courses" options={(courses.data ?? []).map((course) => ({ value: course.id, label: course.title }))} />
        <FilterSelect list={list} name="completed" label="Completed" options={YES_NO} />
        <FilterText list={list} name="min_progress" label="Minimum progress (%)" type="number" min={0} max={100} />
        <FilterText list={list} name="user_id" label="User id" type="number" min={1} />
      </FilterForm>
      <ReportTable<StudentReportRow, typeof initialStudentFilters>
        title="Students report"
        path="/api/reports/students"
        fallbackName="learnflow-students.csv"
        list={list}
        empty="No enrollment matches these filters."
        head={['Student', 'Course', 'Enrolled', 'Progress', 'Lessons done', 'Completed', 'Time spent', 'Last accessed']}
        rowKey={(row) => row.enrollment_id}
        row={(row) => (
          <>
            <td className={cell}>
              <div className="font-medium">{row.name}</div>
              <div className="break-all text-xs text-slate-500 dark:text-slate-400">{row.email}</div>
            </td>
            <td className={cell}>{row.course_title}</td>
            <td className={`${cell} whitespace-nowrap`}>{formatDate(row.enrolled_at)}</td>
            <td className={`${cell} min-w-[8rem]`}>
              <ProgressBar value={row.progress_percentage} label={`Progress of ${row.name} in ${row.course_title}`} />
              <span className="text-xs tabular-nums">{percent(row.progress_percentage)}</span>
            </td>
            <td className={`${cell} tabular-nums`}>{row.completed_lessons}</td>
            <td className={`${cell} whitespace-nowrap`}>{row.completed ? formatDate(row.completed_at) : 'No'}</td>
            <td className={`${cell} whitespace-nowrap tabular-nums`}>{formatSeconds(row.time_spent_seconds)}</td>
            <td className={`${cell} whitespace-nowrap`}>{formatDate(row.last_accessed)}</td>
          </>
        )}
      />
    </>
  )
}

const initialUserFilters = { search: '', role: '', is_active: '', is_blocked: '', created_from: '', created_to: '' }

function UsersReport() {
  const list = useListState(initialUserFilters)
  return (
    <>
      <FilterForm wide label="Filter the users report">
        <FilterText list={list} name="search" label="Search name or email" type="search" />
        <FilterSelect list={list} name="role" label="Role" all="All roles" options={ROLES} />
        <FilterSelect list={list} name="is_active" label="Active" options={YES_NO} />
        <FilterSelect list={list} name="is_blocked" label="Blocked" options={YES_NO} />
        <FilterInput list={list} name="created_from" label="Joined from (UTC day)" type="date" />
        <FilterInput list={list} name="created_to" label="Joined to (UTC day)" type="date" />
      </FilterForm>
      <ReportTable<UserReportRow, typeof initialUserFilters>
        title="Users report"
        path="/api/reports/users"
        fallbackName="learnflow-users.csv"
        list={list}
        empty="No user matches these filters."
        head={['User', 'Role', 'Status', 'Joined', 'Last sign-in', 'Enrollments', 'Completions', 'Courses owned', 'Time spent']}
        rowKey={(row) => row.id}
        row={(row) => (
          <>
            <td className={cell}>
              <div className="font-medium">{fullName(row)}</div>
              <div className="break-all text-xs text-slate-500 dark:text-slate-400">{row.email}</div>
            </td>
            <td className={cell}>{row.role}</td>
            <td className={cell}>{!row.is_active ? <Badge tone="slate">Deactivated</Badge> : row.is_blocked ? <Badge tone="red">Blocked</Badge> : <Badge tone="green">Active</Badge>}</td>
            <td className={`${cell} whitespace-nowrap`}>{formatDate(row.created_at)}</td>
            <td className={`${cell} whitespace-nowrap`}>{formatDate(row.last_login_at)}</td>
            <td className={`${cell} tabular-nums`}>{row.enrollments}</td>
            <td className={`${cell} tabular-nums`}>{row.completions}</td>
            <td className={`${cell} tabular-nums`}>{row.courses_owned}</td>
            <td className={`${cell} whitespace-nowrap tabular-nums`}>{formatSeconds(row.time_spent_seconds)}</td>
          </>
        )}
      />
    </>
  )
}

function ActivityReport({ withIp }: { withIp: boolean }) {
  const list = useListState(initialAuditFilters)
  return (
    <>
      <AuditFilterForm list={list} label="Filter the activity report" />
      <ReportTable<AuditEntry, typeof initialAuditFilters>
        title="Activity report"
        path="/api/reports/activity"
        fallbackName="learnflow-activity.csv"
        list={list}
        empty="No activity matches these filters."
        head={auditHead(withIp)}
        rowKey={(entry) => entry.id}
        row={(entry) => <AuditCells entry={entry} withIp={withIp} />}
      />
    </>
  )
}

export default function ReportsPage() {
  const { user } = useSession()
  const isAdmin = user?.role === 'admin'
  const tabs = TABS.filter((tab) => !tab.adminOnly || isAdmin)
  const [params, setParams] = useSearchParams()
  const requested = params.get('tab')
  const active = tabs.find((tab) => tab.id === requested)?.id ?? 'courses'
  const refs = useRef(new Map<TabId, HTMLButtonElement>())

  function select(id: TabId, focus = false) {
    setParams((current) => {
      const next = new URLSearchParams(current)
      next.set('tab', id)
      return next
    }, { replace: true })
    if (focus) refs.current.get(id)?.focus()
  }

  // Arrow keys move between tabs (WAI-ARIA tabs pattern with automatic activation).
  function onKeyDown(event: KeyboardEvent<HTMLDivElement>) {
    const index = tabs.findIndex((tab) => tab.id === active)
    const moves: Record<string, number> = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: tabs.length - 1 }
    const target = moves[event.key]
    if (target === undefined) return
    event.preventDefault()
    const tab = tabs[(target + tabs.length) % tabs.length]
    if (tab) select(tab.id, true)
  }

  return (
    <div>
      <PageHeader title="Reports">
        {isAdmin ? 'Platform-wide figures. Every table downloads as CSV with its filters.' : 'Figures of your courses. Every table downloads as CSV with its filters.'}
      </PageHeader>
      <div role="tablist" aria-label="Reports" className="mb-4 flex flex-wrap gap-1 border-b border-slate-200 dark:border-slate-800" onKeyDown={onKeyDown}>
        {tabs.map((tab) => {
          const selected = tab.id === active
          return (
            <button
              key={tab.id}
              ref={(element) => {
                if (element) refs.current.set(tab.id, element)
                else refs.current.delete(tab.id)
              }}
              type="button"
              role="tab"
              id={`report-tab-${tab.id}`}
              aria-selected={selected}
              aria-controls={`report-panel-${tab.id}`}
              tabIndex={selected ? 0 : -1}
              onClick={() => select(tab.id)}
              data-testid={`report-tab-${tab.id}`}
              className={`-mb-px rounded-t-md border-b-2 px-4 py-2 text-sm font-medium ${
                selected
                  ? 'border-indigo-600 text-indigo-700 dark:border-indigo-400 dark:text-indigo-300'
                  : 'border-transparent text-slate-600 hover:text-slate-900 dark:text-slate-400 dark:hover:text-slate-100'
              }`}
            >
              {tab.label}
            </button>
          )
        })}
      </div>
      <div role="tabpanel" id={`report-panel-${active}`} aria-labelledby={`report-tab-${active}`} tabIndex={0}>
        {active === 'courses' && <CoursesReport isAdmin={isAdmin} />}
        {active === 'students' && <StudentsReport />}
        {active === 'users' && isAdmin && <UsersReport />}
        {active === 'activity' && <ActivityReport withIp={isAdmin} />}
      </div>
    </div>
  )
}
