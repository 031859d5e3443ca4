// The analytics feature's calls.
import { api } from '../../lib/client'
import type { CategoryStats, GrowthPoint, Insights, LiveAnalytics, Stats, TrendPoint } from './types'

export const ANALYTICS_CHANNEL = 'admin:analytics'

export const getStats = (signal: AbortSignal) => api.get<Stats>('/api/analytics/stats', undefined, signal)
export const getTrends = (days: number, signal: AbortSignal) => api.get<TrendPoint[]>('/api/analytics/enrollment-trends', { days }, signal)
export const getGrowth = (months: number, signal: AbortSignal) => api.get<GrowthPoint[]>('/api/analytics/user-growth', { months }, signal)
export const getCategories = (signal: AbortSignal) => api.get<CategoryStats[]>('/api/analytics/categories', undefined, signal)
export const getInsights = (limit: number, signal: AbortSignal) => api.get<Insights>('/api/analytics/insights', { limit }, signal)
export const getLive = (signal: AbortSignal) => api.get<LiveAnalytics>('/api/analytics/live', undefined, signal)
