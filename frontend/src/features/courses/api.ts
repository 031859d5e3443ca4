import type { Query } from '../../lib/api'
import { api } from '../../lib/client'
import type { Lesson } from '../lessons/api'

export type Level = 'Beginner' | 'Intermediate' | 'Advanced'
export const LEVELS: Level[] = ['Beginner', 'Intermediate', 'Advanced']

/** CoursePublic in /api/openapi.json: every course endpoint (catalogue, admin, editor, enrollments) returns it. */
export interface Course {
  id: number
  title: string
  description: string
  category: string
  level: Level
  duration: string
  thumbnail_url: string | null
  banner_url: string | null
  instructor_id: number
  instructor: string
  instructorAvatar: string | null
  is_published: boolean
  is_leaderboard_public: boolean
  is_enrolled: boolean
  lessonsCount: number
  enrollment_count: number
  /** The same as enrollment_count (the original API's name). */
  enrolledStudents: number
  /** The average rating, 0 without ratings (the original API's field); average_rating is null then. */
  rating: number
  average_rating: number | null
  rating_count: number
  created_at: string
  updated_at: string
}

export type LessonType = 'video' | 'text'

/** A lesson of CourseDetail: LessonPublic, with content and notes null unless the caller may open it. */
export type CourseLesson = Lesson

export interface CourseDetail extends Course {
  lessons: CourseLesson[]
}

/** GET /api/courses/with-enrollments */
export interface CourseWithEnrollments extends Course {
  enrollments: number
  completed_count: number
  average_progress: number
}

/** GET /api/categories/counts */
export interface Category {
  name: string
  course_count: number
}

export interface Rating {
  id: number
  course_id: number
  user_id: number
  name: string
  avatar: string | null
  stars: number
  review: string | null
  created_at: string
  updated_at: string
}

export interface CourseFilters {
  search?: string
  category?: string
  level?: string
  skip?: number
  limit?: number
}

export const listCourses = (filters: CourseFilters | Query, signal?: AbortSignal) =>
  api.page<Course>('/api/courses', filters as Query, signal)
export const getCourse = (id: number | string, signal?: AbortSignal) =>
  api.get<CourseDetail>(`/api/courses/${id}`, undefined, signal)
/** Category names (GET /api/categories). */
export const listCategoryNames = (signal?: AbortSignal) => api.get<string[]>('/api/categories', undefined, signal)
/** Categories with their course counts. */
export const listCategories = (signal?: AbortSignal) => api.get<Category[]>('/api/categories/counts', undefined, signal)
/** Courses the caller teaches (admin: all). */
export const teachingCourses = (signal?: AbortSignal) =>
  api.get<CourseWithEnrollments[]>('/api/courses/with-enrollments', undefined, signal)
export const deleteCourse = (id: number) => api.delete<void>(`/api/courses/${id}`)
export const enroll = (id: number) => api.post<unknown>(`/api/courses/${id}/enroll`)
export const unenroll = (id: number) => api.delete<unknown>(`/api/courses/${id}/unenroll`)
export const listRatings = (id: number, signal?: AbortSignal) =>
  api.page<Rating>(`/api/courses/${id}/ratings`, { limit: 20 }, signal)
export const rateCourse = (id: number, stars: number, review: string) =>
  api.put<Rating>(`/api/courses/${id}/rating`, { stars, review: review || null })
