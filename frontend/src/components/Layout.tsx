import { useState } from 'react'
import { NavLink, Outlet, useNavigate } from 'react-router'
import { useSession } from '../lib/session'
import { useTheme } from '../lib/theme'
import type { Role } from '../lib/types'
import { useUnreadCount } from '../features/messages/useUnreadCount'
import { ConnectionIndicator } from './ConnectionIndicator'
import { Button } from './ui'

interface NavItem {
  to: string
  label: string
  roles?: Role[]
}

const navigation: NavItem[] = [
  { to: '/courses', label: 'Catalogue' },
  { to: '/dashboard', label: 'Dashboard', roles: ['learner', 'instructor', 'admin'] },
  { to: '/my-learning', label: 'My learning', roles: ['learner'] },
  { to: '/messages', label: 'Messages', roles: ['learner', 'instructor', 'admin'] },
  { to: '/teach', label: 'Teaching', roles: ['instructor', 'admin'] },
  { to: '/teach/activity', label: 'Live activity', roles: ['instructor', 'admin'] },
  { to: '/admin/analytics', label: 'Analytics', roles: ['admin'] },
  { to: '/admin/users', label: 'Users', roles: ['admin'] },
  { to: '/admin/courses', label: 'All courses', roles: ['admin'] },
  { to: '/admin/reports', label: 'Reports', roles: ['admin', 'instructor'] },
  { to: '/admin/audit', label: 'Audit log', roles: ['admin', 'instructor'] },
]

function linkClass({ isActive }: { isActive: boolean }): string {
  return `block rounded-md px-3 py-2 text-sm font-medium ${
    isActive
      ? 'bg-indigo-50 text-indigo-700 dark:bg-indigo-950 dark:text-indigo-200'
      : 'text-slate-700 hover:bg-slate-100 dark:text-slate-300 dark:hover:bg-slate-800'
  }`
}

/** Unread direct messages, live; mounted only for signed-in users. */
function UnreadBadge() {
  const unread = useUnreadCount()
  if (unread === 0) return null
  return (
    <span data-testid="nav-unread" className="ml-1.5 rounded-full bg-rose-600 px-1.5 py-0.5 text-xs font-semibold text-white">
      {unread}
      <span className="sr-only"> unread</span>
    </span>
  )
}

export function Layout() {
  const { user, signOut } = useSession()
  const [theme, toggleTheme] = useTheme()
  const [menuOpen, setMenuOpen] = useState(false)
  const navigate = useNavigate()
  const items = navigation.filter((item) => !item.roles || (user && item.roles.includes(user.role)))

  return (
    <div className="min-h-screen">
      <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:rounded focus:bg-white focus:p-2 dark:focus:bg-slate-900">
        Skip to content
      </a>
      <header className="border-b border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
        <div className="mx-auto flex max-w-7xl items-center gap-4 px-4 py-3">
          <NavLink to="/" className="text-lg font-bold text-indigo-600 dark:text-indigo-400">
            LearnFlow
          </NavLink>
          <button
            type="button"
            className="ml-auto rounded-md p-2 md:hidden"
            aria-expanded={menuOpen}
            aria-controls="main-nav"
            onClick={() => setMenuOpen((open) => !open)}
          >
            <span className="sr-only">Menu</span>☰
          </button>
          <nav
            id="main-nav"
            aria-label="Main"
            className={`${menuOpen ? 'absolute left-0 right-0 top-14 z-20 block border-b border-slate-200 bg-white p-2 dark:border-slate-800 dark:bg-slate-900' : 'hidden'} md:static md:flex md:flex-1 md:flex-wrap md:gap-1 md:border-0 md:p-0`}
            onClick={() => setMenuOpen(false)}
          >
            {items.map((item) => (
              <NavLink key={item.to} to={item.to} className={linkClass} end={item.to === '/teach'}>
                {item.label}
                {item.to === '/messages' && user && <UnreadBadge />}
              </NavLink>
            ))}
          </nav>
          <div className="hidden items-center gap-2 md:flex">
            <ConnectionIndicator />
            <Button variant="ghost" onClick={toggleTheme} aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`}>
              {theme === 'dark' ? '☀︎' : '☾'}
            </Button>
            {user ? (
              <>
                <NavLink to="/profile" className={linkClass}>
                  {user.first_name}
                </NavLink>
                <Button
                  variant="secondary"
                  onClick={async () => {
                    await signOut()
                    navigate('/')
                  }}
                >
                  Sign out
                </Button>
              </>
            ) : (
              <>
                <NavLink to="/login" className={linkClass}>
                  Sign in
                </NavLink>
                <NavLink to="/register" className="rounded-md bg-indigo-600 px-3 py-2 text-sm font-medium text-white hover:bg-indigo-500">
                  Sign up
                </NavLink>
              </>
            )}
          </div>
        </div>
        <div className="flex items-center gap-2 px-4 pb-2 md:hidden">
          <ConnectionIndicator />
          <Button variant="ghost" onClick={toggleTheme} aria-label="Toggle theme">
            {theme === 'dark' ? '☀︎' : '☾'}
          </Button>
          {user ? (
            <Button variant="secondary" onClick={() => void signOut().then(() => navigate('/'))}>
              Sign out
            </Button>
          ) : (
            <NavLink to="/login" className={linkClass}>
              Sign in
            </NavLink>
          )}
        </div>
      </header>
      <main id="main" className="mx-auto max-w-7xl px-4 py-6">
        <Outlet />
      </main>
    </div>
  )
}
