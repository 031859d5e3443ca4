// Recharts views of the analytics series. Colours read well on both themes; axes use slate-400.
import type { ReactNode } from 'react'
import {
  Area,
  AreaChart,
  Bar,
  BarChart,
  CartesianGrid,
  ComposedChart,
  Legend,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts'
import type { RatePoint } from './liveState'
import type { CategoryStats, GrowthPoint, LiveCourseActivity, TrendPoint } from './types'

export const COLORS = { indigo: '#6366f1', emerald: '#10b981', amber: '#f59e0b', sky: '#0ea5e9', rose: '#f43f5e' }
const axis = { stroke: '#94a3b8', fontSize: 12 }
const grid = '#94a3b840'
const tooltip = {
  contentStyle: { background: 'rgba(15, 23, 42, 0.92)', border: 'none', borderRadius: 6, color: '#f8fafc', fontSize: 12 },
  labelStyle: { color: '#cbd5e1' },
  itemStyle: { color: '#f8fafc' },
}

/** A chart with a caption; the caption names the chart for screen readers. */
export function ChartFigure({ caption, height = 'h-64', children }: { caption: string; height?: string; children: ReactNode }) {
  return (
    <figure className="m-0">
      <figcaption className="sr-only">{caption}</figcaption>
      <div className={`${height} w-full`} role="img" aria-label={caption}>
        {children}
      </div>
    </figure>
  )
}

const shortDate = (iso: string) => {
  const [, month, day] = iso.split('-')
  return month && day ? `${day}/${month}` : iso
}

export function TrendsChart({ points }: { points: TrendPoint[] }) {
  return (
    <ChartFigure caption="Enrollments, completions and active learners per day">
      <ResponsiveContainer width="100%" height="100%">
        <AreaChart data={points} margin={{ top: 8, right: 8, bottom: 0, left: -16 }}>
          <CartesianGrid stroke={grid} strokeDasharray="3 3" />
          <XAxis dataKey="date" tickFormatter={shortDate} tick={axis} stroke={axis.stroke} minTickGap={16} />
          <YAxis allowDecimals={false} tick={axis} stroke={axis.stroke} />
          <Tooltip {...tooltip} />
          <Legend wrapperStyle={{ fontSize: 12 }} />
          <Area type="monotone" dataKey="enrollments" name="Enrollments" stroke={COLORS.indigo} fill={COLORS.indigo} fillOpacity={0.25} isAnimationActive={false} />
          <Area type="monotone" dataKey="completions" name="Completions" stroke={COLORS.emerald} fill={COLORS.emerald} fillOpacity={0.25} isAnimationActive={false} />
          <Area type="monotone" dataKey="active_learners" name="Active learners" stroke={COLORS.amber} fill={COLORS.amber} fillOpacity={0.15} isAnimationActive={false} />
        </AreaChart>
      </ResponsiveContainer>
    </ChartFigure>
  )
}

export function GrowthChart({ points }: { points: GrowthPoint[] }) {
  return (
    <ChartFigure caption="New users per month with the running total">
      <ResponsiveContainer width="100%" height="100%">
        <ComposedChart data={points} margin={{ top: 8, right: 8, bottom: 0, left: -16 }}>
          <CartesianGrid stroke={grid} strokeDasharray="3 3" />
          <XAxis dataKey="month" tick={axis} stroke={axis.stroke} minTickGap={8} />
          <YAxis allowDecimals={false} tick={axis} stroke={axis.stroke} />
          <Tooltip {...tooltip} />
          <Legend wrapperStyle={{ fontSize: 12 }} />
          <Bar dataKey="new_users" name="New users" fill={COLORS.indigo} radius={[4, 4, 0, 0]} isAnimationActive={false} />
          <Line type="monotone" dataKey="total_users" name="Total users" stroke={COLORS.emerald} dot={false} isAnimationActive={false} />
        </ComposedChart>
      </ResponsiveContainer>
    </ChartFigure>
  )
}

export function CategoriesChart({ categories }: { categories: CategoryStats[] }) {
  return (
    <ChartFigure caption="Enrollments, completions and students per category">
      <ResponsiveContainer width="100%" height="100%">
        <BarChart data={categories} margin={{ top: 8, right: 8, bottom: 0, left: -16 }}>
          <CartesianGrid stroke={grid} strokeDasharray="3 3" />
          <XAxis dataKey="category" tick={axis} stroke={axis.stroke} interval={0} />
          <YAxis allowDecimals={false} tick={axis} stroke={axis.stroke} />
          <Tooltip {...tooltip} />
          <Legend wrapperStyle={{ fontSize: 12 }} />
          <Bar dataKey="enrollments" name="Enrollments" fill={COLORS.indigo} radius={[4, 4, 0, 0]} isAnimationActive={false} />
          <Bar dataKey="completions" name="Completions" fill={COLORS.emerald} radius={[4, 4, 0, 0]} isAnimationActive={false} />
          <Bar dataKey="students" name="Students" fill={COLORS.sky} radius={[4, 4, 0, 0]} isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </ChartFigure>
  )
}

const clock = (ms: number) => new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' })

export function RatesChart({ series }: { series: RatePoint[] }) {
  return (
    <ChartFigure caption="Heartbeats and messages per minute over the last updates" height="h-48">
      <ResponsiveContainer width="100%" height="100%">
        <LineChart data={series} margin={{ top: 8, right: 8, bottom: 0, left: -16 }}>
          <CartesianGrid stroke={grid} strokeDasharray="3 3" />
          <XAxis dataKey="at" type="number" domain={['dataMin', 'dataMax']} scale="time" tickFormatter={clock} tick={axis} stroke={axis.stroke} minTickGap={24} />
          <YAxis allowDecimals={false} tick={axis} stroke={axis.stroke} />
          <Tooltip {...tooltip} labelFormatter={(value) => clock(Number(value))} />
          <Legend wrapperStyle={{ fontSize: 12 }} />
          <Line type="monotone" dataKey="heartbeats" name="Heartbeats/min" stroke={COLORS.indigo} dot={false} isAnimationActive={false} />
          <Line type="monotone" dataKey="messages" name="Messages/min" stroke={COLORS.rose} dot={false} isAnimationActive={false} />
        </LineChart>
      </ResponsiveContainer>
    </ChartFigure>
  )
}

export function ActiveCoursesChart({ courses }: { courses: LiveCourseActivity[] }) {
  const height = Math.max(120, courses.length * 36 + 24)
  return (
    <figure className="m-0">
      <figcaption className="sr-only">Learners active in the last five minutes per course</figcaption>
      <div style={{ height }} className="w-full" role="img" aria-label="Learners active in the last five minutes per course">
        <ResponsiveContainer width="100%" height="100%">
          <BarChart data={courses} layout="vertical" margin={{ top: 4, right: 16, bottom: 4, left: 8 }}>
            <CartesianGrid stroke={grid} strokeDasharray="3 3" horizontal={false} />
            <XAxis type="number" allowDecimals={false} tick={axis} stroke={axis.stroke} />
            <YAxis type="category" dataKey="title" width={140} tick={axis} stroke={axis.stroke} />
            <Tooltip {...tooltip} />
            <Bar dataKey="active_learners" name="Active learners" fill={COLORS.emerald} radius={[0, 4, 4, 0]} isAnimationActive={false} />
          </BarChart>
        </ResponsiveContainer>
      </div>
    </figure>
  )
}
