// Instructor-side course and lesson calls, with the server's shapes (app/courses/schemas.py,
// app/lessons/schemas.py). The catalogue feature keeps its own public types.
import { api } from '../../lib/client'

export type Level = 'Beginner' | 'Intermediate' | 'Advanced'
export const LEVELS: Level[] = ['Beginner', 'Intermediate', 'Advanced']
export type LessonType = 'video' | 'text'

export interface TeachingCourse {
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
  is_published: boolean
  is_leaderboard_public: boolean
  lessonsCount: number
  enrollment_count: number
  rating: number | null
  rating_count: number
  created_at: string
  updated_at: string
}

/** GET /api/courses/with-enrollments */
export interface CourseWithEnrollments extends TeachingCourse {
  completed_count: number
  average_progress: number
}

export interface Lesson {
  id: string
  course_id: number
  title: string
  type: LessonType
  duration: number
  content: string
  notes: string | null
  order: number
  created_at: string
  updated_at: string
}

/** The body of POST /api/courses (CourseCreate); PUT takes any subset plus the flags. */
export interface CourseInput {
  title: string
  description: string
  category: string
  level: Level
  duration: string
  thumbnail_url: string | null
}

export interface CourseFlags {
  is_published?: boolean
  is_leaderboard_public?: boolean
}

export interface LessonInput {
  title: string
  type: LessonType
  duration: number
  content: string
  notes: string | null
}

export interface Category {
  name: string
  course_count: number
}

export const teachingCourses = (signal?: AbortSignal) =>
  api.get<CourseWithEnrollments[]>('/api/courses/with-enrollments', undefined, signal)

export const getCourse = (id: number, signal?: AbortSignal) =>
  api.get<TeachingCourse>(`/api/courses/${id}`, undefined, signal)

export const categories = (signal?: AbortSignal) => api.get<Category[]>('/api/categories', undefined, signal)

export const createCourse = (input: CourseInput) => api.post<TeachingCourse>('/api/courses', input)

export const updateCourse = (id: number, changes: Partial<CourseInput> & CourseFlags) =>
  api.put<TeachingCourse>(`/api/courses/${id}`, changes)

export const deleteCourse = (id: number) => api.delete<void>(`/api/courses/${id}`)

export const listLessons = (courseId: number, signal?: AbortSignal) =>
  api.get<Lesson[]>(`/api/courses/${courseId}/lessons`, undefined, signal)

export const createLesson = (courseId: number, input: LessonInput) =>
  api.post<Lesson>(`/api/courses/${courseId}/lessons`, input)

export const updateLesson = (courseId: number, lessonId: string, input: Partial<LessonInput>) =>
  api.put<Lesson>(`/api/courses/${courseId}/lessons/${lessonId}`, input)

export const deleteLesson = (courseId: number, lessonId: string) =>
  api.delete<void>(`/api/courses/${courseId}/lessons/${lessonId}`)

export const reorderLessons = (courseId: number, lessonIds: string[]) =>
  api.put<Lesson[]>(`/api/courses/${courseId}/lessons/order`, { lesson_ids: lessonIds })
