// Instructor-side course calls and their request bodies (app/courses/schemas.py). Shapes the server returns
// live in ./api; lesson calls in ../lessons/api.
import { api } from '../../lib/client'
import type { Course } from './api'

/** The body of POST /api/courses (CourseCreate); PUT takes any subset plus the flags. */
export type CourseInput = Pick<Course, 'title' | 'description' | 'category' | 'level' | 'duration' | 'thumbnail_url'>

export interface CourseFlags {
  is_published?: boolean
  is_leaderboard_public?: boolean
}

export const createCourse = (input: CourseInput) => api.post<Course>('/api/courses', input)

export const updateCourse = (id: number, changes: Partial<CourseInput> & CourseFlags) =>
  api.put<Course>(`/api/courses/${id}`, changes)
