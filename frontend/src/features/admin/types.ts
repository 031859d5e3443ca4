// Shapes of the admin endpoints' JSON (see /api/openapi.json: report rows, AuditLogPublic); courses are ../courses/api Course.
import type { Role } from '../../lib/types'

export const ROLES: Role[] = ['learner', 'instructor', 'admin']

export interface BlockResult {
  message: string
  is_blocked: boolean
}

export interface DeactivateResult {
  message: string
  is_active: boolean
}

export interface CourseReportRow {
  id: number
  title: string
  category: string
  level: string
  instructor_id: number
  instructor_name: string
  is_published: boolean
  enrollments: number
  completions: number
  completion_rate: number
  average_progress: number
  average_rating: number | null
  rating_count: number
  time_spent_seconds: number
  created_at: string
}

/** A row of the students report as JSON: `progress` is a whole percent there, `progress_percentage` exact. */
export interface StudentReportRow {
  enrollment_id: number
  user_id: number
  name: string
  email: string
  course_id: number
  course_title: string
  enrolled_at: string
  progress: number
  progress_percentage: number
  status: 'enrolled' | 'in_progress' | 'completed'
  completed: boolean
  completed_at: string | null
  completed_lessons: number
  time_spent_seconds: number
  last_accessed: string | null
}

export interface UserReportRow {
  id: number
  email: string
  first_name: string
  last_name: string
  role: string
  is_active: boolean
  is_blocked: boolean
  created_at: string
  last_login_at: string | null
  enrollments: number
  completions: number
  courses_owned: number
  time_spent_seconds: number
}

export interface AuditEntry {
  id: number
  user_id: number | null
  user_email: string | null
  user_name: string | null
  action: string
  resource_type: string | null
  /** The resource's id when it is a number (the original API's type); resource_key has every id as text. */
  resource_id: number | null
  resource_key: string | null
  /** details_data as JSON text, null when empty. */
  details: string | null
  details_data: Record<string, unknown>
  /** Admins only: the server sends null to instructors. */
  ip_address: string | null
  user_agent: string | null
  created_at: string
}

/** Actions and resource types the server records (the `record(...)` calls of the app services), offered as suggestions. */
export const AUDIT_ACTIONS = [
  'register',
  'login',
  'login_failed',
  'logout',
  'login_throttled',
  'password_changed',
  'refresh_token_reused',
  'google_linked',
  'role_changed',
  'admin_bootstrap_refused',
  'user_blocked',
  'user_unblocked',
  'user_deactivated',
  'course_created',
  'course_updated',
  'course_published',
  'course_deleted',
  'lesson_created',
  'lesson_updated',
  'lesson_deleted',
  'enrolled',
  'unenrolled',
  'lesson_completed',
  'course_completed',
  'comment_deleted',
  'media_uploaded',
]
export const AUDIT_RESOURCE_TYPES = ['user', 'session', 'course', 'lesson', 'comment', 'media']
