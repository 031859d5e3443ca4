// Shapes of /api/analytics/* (see /api/openapi.json: StatsPublic, TrendPoint, GrowthPoint, CategoryStats,
// InsightsPublic, LiveAnalytics — the last one is also the `analytics` event of `admin:analytics`).

export interface Stats {
  scope: 'platform' | 'instructor'
  total_users: number
  /** People with at least one enrollment (the original API's name; the same as total_students). */
  active_users: number
  total_learners: number
  total_instructors: number
  total_admins: number
  blocked_users: number
  deactivated_users: number
  new_users_last_30_days: number
  total_courses: number
  published_courses: number
  draft_courses: number
  total_enrollments: number
  total_completions: number
  completion_rate: number
  average_progress: number
  total_students: number
  enrollments_last_7_days: number
  completions_last_7_days: number
  total_time_spent_seconds: number
  active_learners_last_7_days: number
  total_ratings: number
  average_rating: number | null
  total_comments: number
}

export interface TrendPoint {
  date: string
  enrollments: number
  completions: number
  active_learners: number
  time_spent_seconds: number
}

export interface GrowthPoint {
  month: string
  new_users: number
  total_users: number
}

export interface CategoryStats {
  /** The original API's fields: the category ("Uncategorized" when empty), its courses and their whole-percent share. */
  name: string
  count: number
  percentage: number
  category: string
  courses: number
  published_courses: number
  enrollments: number
  completions: number
  completion_rate: number
  students: number
}

export interface CourseInsight {
  course_id: number
  title: string
  category: string
  enrollments: number
  completions: number
  completion_rate: number
}

export interface RatedCourseInsight {
  course_id: number
  title: string
  average_rating: number
  rating_count: number
}

export interface LearnerInsight {
  user_id: number
  name: string
  email: string
  time_spent_seconds: number
  courses: number
}

export interface Insights {
  avg_lesson_views: number
  completion_rate: number
  total_lessons_viewed: number
  total_enrollments: number
  completed_enrollments: number
  scope: 'platform' | 'instructor'
  top_courses: CourseInsight[]
  lowest_completion_courses: CourseInsight[]
  top_rated_courses: RatedCourseInsight[]
  most_active_learners: LearnerInsight[]
}

export interface LiveCourseActivity {
  course_id: number
  title: string
  active_learners: number
}

export interface LiveAnalytics {
  users_online: number
  active_learners: number
  courses: LiveCourseActivity[]
  heartbeats_per_minute: number
  messages_per_minute: number
  generated_at: string
}
