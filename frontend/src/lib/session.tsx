// Who is signed in: the user from /api/auth/me, and sign-in / sign-out that also (re)start the hub link.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react'
import type { TokenPair } from './api'
import { api, live, onSessionEnded } from './client'
import type { User } from './types'

interface Session {
  user: User | null
  loading: boolean
  signIn(tokens: TokenPair): Promise<User>
  signOut(): Promise<void>
  reload(): Promise<void>
}

const SessionContext = createContext<Session | null>(null)

export function SessionProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<User | null>(null)
  const [loading, setLoading] = useState(true)

  const reload = useCallback(async () => {
    if (!(await api.restore())) {
      setUser(null)
      return
    }
    try {
      setUser(await api.get<User>('/api/auth/me'))
    } catch {
      setUser(null)
    }
  }, [])

  useEffect(() => {
    void reload().finally(() => setLoading(false))
    return onSessionEnded(() => {
      api.signOut()
      live.stop()
      setUser(null)
    })
  }, [reload])

  useEffect(() => {
    if (user) live.start()
    else live.stop()
  }, [user])

  const signIn = useCallback(async (tokens: TokenPair) => {
    api.signIn(tokens)
    const me = await api.get<User>('/api/auth/me')
    setUser(me)
    live.restart()
    return me
  }, [])

  const signOut = useCallback(async () => {
    try {
      await api.post('/api/auth/logout')
    } catch {
      // Signing out locally matters more than telling a server we cannot reach.
    }
    live.stop()
    api.signOut()
    setUser(null)
  }, [])

  const value = useMemo(() => ({ user, loading, signIn, signOut, reload }), [user, loading, signIn, signOut, reload])
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>
}

export function useSession(): Session {
  const session = useContext(SessionContext)
  if (!session) throw new Error('useSession outside SessionProvider')
  return session
}
