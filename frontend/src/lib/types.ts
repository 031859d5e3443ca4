// Shapes of the API's JSON (field names as the server sends them; see /api/openapi.json).
export type Role = 'learner' | 'instructor' | 'admin'

export interface User {
  id: number
  email: string
  first_name: string
  last_name: string
  role: Role
  avatar_url: string | null
  is_active: boolean
  is_blocked: boolean
  created_at: string
  last_login_at?: string | null
}

export function fullName(user: { first_name: string; last_name: string }): string {
  return `${user.first_name} ${user.last_name}`.trim()
}
