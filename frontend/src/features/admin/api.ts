// The admin feature's calls (users, reports, audit log); course calls are ../courses/api's.
import type { Page, Query } from '../../lib/api'
import { api } from '../../lib/client'
import type { Role, User } from '../../lib/types'
import type { AuditEntry, BlockResult, DeactivateResult } from './types'

export const listUsers = (query: Query, signal: AbortSignal): Promise<Page<User>> => api.page<User>('/api/users', query, signal)

export const changeRole = (userId: number, role: Role): Promise<User> => api.put<User>(`/api/users/${userId}/role`, { role })

/** Toggles: blocks an unblocked user, unblocks a blocked one. */
export const toggleBlock = (userId: number): Promise<BlockResult> => api.post<BlockResult>(`/api/users/${userId}/block`)

export const deactivateUser = (userId: number): Promise<DeactivateResult> =>
  api.post<DeactivateResult>(`/api/users/${userId}/deactivate`)

export const listAudit = (query: Query, signal: AbortSignal): Promise<Page<AuditEntry>> =>
  api.page<AuditEntry>('/api/audit-logs', query, signal)

/** Where each report's object holds its rows (the activity report's audit entries are `entries`). */
export const REPORT_ROWS: Record<string, string> = {
  '/api/reports/courses': 'courses',
  '/api/reports/students': 'students',
  '/api/reports/users': 'users',
  '/api/reports/activity': 'entries',
}

/** One page of a report's rows, with X-Total-Count. */
export async function reportPage<T>(path: string, query: Query, signal: AbortSignal): Promise<Page<T>> {
  const response = await api.request<Response>('GET', path, { query, signal, raw: true })
  const body = (await response.json()) as Record<string, unknown>
  const rows = body[REPORT_ROWS[path] ?? '']
  const items = (Array.isArray(rows) ? rows : []) as T[]
  const total = Number(response.headers.get('X-Total-Count') ?? items.length)
  return { items, total: Number.isFinite(total) ? total : items.length }
}
