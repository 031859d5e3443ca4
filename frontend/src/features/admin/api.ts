// The admin feature's calls (users, courses, reports, audit log).
import type { Page, Query } from '../../lib/api'
import { api } from '../../lib/client'
import type { Role, User } from '../../lib/types'
import type { AdminCourse, AuditEntry, BlockResult, Category, DeactivateResult } from './types'

export const listUsers = (query: Query, signal: AbortSignal): Promise<Page<User>> => api.page<User>('/api/users', query, signal)

export const changeRole = (userId: number, role: Role): Promise<User> => api.put<User>(`/api/users/${userId}/role`, { role })

/** Toggles: blocks an unblocked user, unblocks a blocked one. */
export const toggleBlock = (userId: number): Promise<BlockResult> => api.post<BlockResult>(`/api/users/${userId}/block`)

export const deactivateUser = (userId: number): Promise<DeactivateResult> =>
  api.post<DeactivateResult>(`/api/users/${userId}/deactivate`)

/** As an admin the catalogue lists every course, drafts included. */
export const listCourses = (query: Query, signal: AbortSignal): Promise<Page<AdminCourse>> =>
  api.page<AdminCourse>('/api/courses', query, signal)

export const deleteCourse = (courseId: number): Promise<void> => api.delete<void>(`/api/courses/${courseId}`)

export const listCategories = (signal: AbortSignal): Promise<Category[]> => api.get<Category[]>('/api/categories', undefined, signal)

/** Courses the caller teaches (admin: all), for the students report's course filter. */
export const teachingCourses = (signal: AbortSignal): Promise<AdminCourse[]> =>
  api.get<AdminCourse[]>('/api/courses/with-enrollments', undefined, signal)

export const listAudit = (query: Query, signal: AbortSignal): Promise<Page<AuditEntry>> =>
  api.page<AuditEntry>('/api/audit-logs', query, signal)

export const reportPage = <T>(path: string, query: Query, signal: AbortSignal): Promise<Page<T>> => api.page<T>(path, query, signal)
