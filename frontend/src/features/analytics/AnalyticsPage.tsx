// Admin analytics: the live panel, headline figures, trends, growth, categories and insights.
import { useState, type ReactNode } from 'react'
import { Link } from 'react-router'
import { Card, Empty, Loaded, PageHeader, SelectField, formatSeconds } from '../../components/ui'
import { useResource, type Resource } from '../../lib/useResource'
import { getCategories, getGrowth, getInsights, getStats, getTrends } from './api'
import { CategoriesChart, GrowthChart, TrendsChart } from './charts'
import { LivePanel } from './LivePanel'
import type { CourseInsight, Stats } from './types'

function Section({ title, actions, children }: { title: string; actions?: ReactNode; children: ReactNode }) {
  return (
    <Card>
      <div className="mb-3 flex flex-wrap items-end justify-between gap-3">
        <h2 className="text-lg font-semibold">{title}</h2>
        {actions}
      </div>
      {children}
    </Card>
  )
}

/** A chart over a chosen period, with "No data" when the period holds no point. */
function PeriodSection<T>({
  title,
  value,
  onChange,
  periods,
  unit,
  resource,
  children,
}: {
  title: string
  value: number
  onChange(value: number): void
  periods: number[]
  unit: string
  resource: Resource<T[]>
  children(points: T[]): ReactNode
}) {
  return (
    <Section
      title={title}
      actions={
        <div className="w-36">
          <SelectField label="Period" value={value} onChange={(event) => onChange(Number(event.target.value))}>
            {periods.map((period) => (
              <option key={period} value={period}>
                {period} {unit}
              </option>
            ))}
          </SelectField>
        </div>
      }
    >
      <Loaded resource={resource}>{(points) => (points.length === 0 ? <Empty>No data for this period.</Empty> : children(points))}</Loaded>
    </Section>
  )
}

function Stat({ label, value, detail, testId }: { label: string; value: string | number; detail?: string; testId?: string }) {
  return (
    <div className="rounded-lg border border-slate-200 bg-white p-3 dark:border-slate-800 dark:bg-slate-900">
      <dt className="text-xs font-medium uppercase tracking-wide text-slate-500 dark:text-slate-400">{label}</dt>
      <dd className="mt-1 text-2xl font-semibold tabular-nums" data-testid={testId}>
        {value}
      </dd>
      {detail && <dd className="text-xs text-slate-500 dark:text-slate-400">{detail}</dd>}
    </div>
  )
}

function Headline({ stats }: { stats: Stats }) {
  return (
    <dl className="grid grid-cols-2 gap-3 sm:grid-cols-3 lg:grid-cols-6">
      <Stat label="Users" value={stats.total_users} testId="analytics-total-users" detail={`${stats.new_users_last_30_days} new in 30 days`} />
      <Stat label="Learners" value={stats.total_learners} detail={`${stats.total_instructors} instructors · ${stats.total_admins} admins`} />
      <Stat label="Courses" value={stats.total_courses} testId="analytics-total-courses" detail={`${stats.published_courses} published · ${stats.draft_courses} drafts`} />
      <Stat label="Enrollments" value={stats.total_enrollments} testId="analytics-total-enrollments" detail={`${stats.enrollments_last_7_days} in 7 days`} />
      <Stat label="Completion rate" value={`${stats.completion_rate.toFixed(1)}%`} detail={`${stats.total_completions} completions`} />
      <Stat label="Average progress" value={`${stats.average_progress.toFixed(1)}%`} detail={`${stats.total_students} students`} />
      <Stat label="Time learning" value={formatSeconds(stats.total_time_spent_seconds)} detail="tracked by heartbeats" />
      <Stat label="Active learners (7 d)" value={stats.active_learners_last_7_days} />
      <Stat label="Average rating" value={stats.average_rating === null ? '—' : `${stats.average_rating.toFixed(2)} ★`} detail={`${stats.total_ratings} ratings`} />
      <Stat label="Comments" value={stats.total_comments} />
      <Stat label="Blocked" value={stats.blocked_users} />
      <Stat label="Deactivated" value={stats.deactivated_users} />
    </dl>
  )
}

function InsightTable<T>({ caption, head, rows, row, empty }: { caption: string; head: string[]; rows: T[]; row(item: T): ReactNode[]; empty: string }) {
  return (
    <div>
      <h3 className="mb-2 text-sm font-semibold">{caption}</h3>
      {rows.length === 0 ? (
        <p className="py-4 text-sm text-slate-500 dark:text-slate-400">{empty}</p>
      ) : (
        <div className="overflow-x-auto">
          <table className="min-w-full text-left text-sm">
            <caption className="sr-only">{caption}</caption>
            <thead className="text-xs uppercase text-slate-500 dark:text-slate-400">
              <tr>
                {head.map((title) => (
                  <th key={title} scope="col" className="py-1 pr-3 font-semibold">
                    {title}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100 dark:divide-slate-800">
              {rows.map((item, index) => (
                <tr key={index}>
                  {row(item).map((value, column) => (
                    <td key={column} className={`py-1.5 pr-3 ${column > 0 ? 'tabular-nums' : ''}`}>
                      {value}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  )
}

const courseLink = (course: { course_id: number; title: string }) => (
  <Link to={`/courses/${course.course_id}`} className="text-indigo-700 hover:underline dark:text-indigo-300">
    {course.title}
  </Link>
)

const courseRow = (course: CourseInsight) => [courseLink(course), course.enrollments, course.completions, `${course.completion_rate.toFixed(1)}%`]

export default function AnalyticsPage() {
  const [days, setDays] = useState(30)
  const [months, setMonths] = useState(12)
  const stats = useResource((signal) => getStats(signal), [])
  const trends = useResource((signal) => getTrends(days, signal), [days])
  const growth = useResource((signal) => getGrowth(months, signal), [months])
  const categories = useResource((signal) => getCategories(signal), [])
  const insights = useResource((signal) => getInsights(5, signal), [])

  return (
    <div>
      <PageHeader title="Analytics">Live activity and platform figures.</PageHeader>
      <LivePanel />
      <div className="mb-6">
        <Loaded resource={stats}>{(data) => <Headline stats={data} />}</Loaded>
      </div>
      <div className="grid gap-6 lg:grid-cols-2">
        <PeriodSection title="Enrollment trends" value={days} onChange={setDays} periods={[7, 30, 90, 365]} unit="days" resource={trends}>
          {(points) => <TrendsChart points={points} />}
        </PeriodSection>
        <PeriodSection title="User growth" value={months} onChange={setMonths} periods={[6, 12, 24, 36]} unit="months" resource={growth}>
          {(points) => <GrowthChart points={points} />}
        </PeriodSection>
        <Section title="Categories">
          <Loaded resource={categories}>
            {(rows) =>
              rows.length === 0 ? (
                <Empty>No course yet.</Empty>
              ) : (
                <>
                  <CategoriesChart categories={rows} />
                  <InsightTable
                    caption="Per category"
                    head={['Category', 'Courses', 'Enrollments', 'Completion']}
                    rows={rows}
                    row={(row) => [row.category, `${row.published_courses}/${row.courses}`, row.enrollments, `${row.completion_rate.toFixed(1)}%`]}
                    empty="No category."
                  />
                </>
              )
            }
          </Loaded>
        </Section>
        <Section title="Insights">
          <Loaded resource={insights}>
            {(data) => (
              <div className="grid gap-6">
                <InsightTable caption="Most enrolled courses" head={['Course', 'Enrollments', 'Completions', 'Rate']} rows={data.top_courses} row={courseRow} empty="No enrollments yet." />
                <InsightTable
                  caption="Lowest completion"
                  head={['Course', 'Enrollments', 'Completions', 'Rate']}
                  rows={data.lowest_completion_courses}
                  row={courseRow}
                  empty="No enrollments yet."
                />
                <InsightTable
                  caption="Top rated"
                  head={['Course', 'Rating', 'Ratings']}
                  rows={data.top_rated_courses}
                  row={(course) => [courseLink(course), `${course.average_rating.toFixed(2)} ★`, course.rating_count]}
                  empty="No ratings yet."
                />
                <InsightTable
                  caption="Most active learners"
                  head={['Learner', 'Time', 'Courses']}
                  rows={data.most_active_learners}
                  row={(learner) => [
                    <span key="name">
                      {learner.name} <span className="block text-xs text-slate-500 dark:text-slate-400">{learner.email}</span>
                    </span>,
                    formatSeconds(learner.time_spent_seconds),
                    learner.courses,
                  ]}
                  empty="No tracked time yet."
                />
              </div>
            )}
          </Loaded>
        </Section>
      </div>
    </div>
  )
}
