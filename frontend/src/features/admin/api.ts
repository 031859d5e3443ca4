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

export const reportPage = <T>(path: string, query: Query, signal: AbortSignal): Promise<Page<T>> => api.page<T>(path, query, signal)
