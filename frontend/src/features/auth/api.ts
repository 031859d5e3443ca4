import type { TokenPair } from '../../lib/api'
import { api } from '../../lib/client'

export interface Registration {
  email: string
  first_name: string
  last_name: string
  password: string
}

export const login = (email: string, password: string) =>
  api.request<TokenPair>('POST', '/api/auth/login', { body: { email, password }, anonymous: true })

export const register = (registration: Registration) =>
  api.request<TokenPair>('POST', '/api/auth/register', { body: registration, anonymous: true })

export const googleUrl = () => api.request<{ url: string; state: string }>('GET', '/api/auth/google/url', { anonymous: true })

export const googleCallback = (code: string, state: string) =>
  api.request<TokenPair>('POST', '/api/auth/google/callback', { body: { code, state }, anonymous: true })

/** Where to go after signing in: the page that sent the user here, if it is one of ours. */
export function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/dashboard'
}
