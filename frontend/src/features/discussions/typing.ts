// Typing indicators: send at most one `typing` op per 3 s, and show someone as typing for 5 s after
// their last publication.

export const TYPING_SEND_INTERVAL_MS = 3_000
export const TYPING_SHOW_MS = 5_000

export function makeTypingThrottle(intervalMs: number = TYPING_SEND_INTERVAL_MS): (now: number) => boolean {
  let last = -Infinity
  return (now) => {
    if (now - last < intervalMs) return false
    last = now
    return true
  }
}

export interface Typer {
  name: string
  until: number
}

export type Typers = Record<string, Typer>

/** The `typing` publication's data is `{user: {user_id, name, …}}` (app/live/hub.py); our own is ignored. */
export function noteTyping(typers: Typers, data: unknown, me: number, now: number): Typers {
  const user = (data as { user?: { user_id?: unknown; id?: unknown; name?: unknown } } | null)?.user
  const rawId = user?.user_id ?? user?.id
  const id = typeof rawId === 'number' || typeof rawId === 'string' ? String(rawId) : null
  if (id === null || id === String(me)) return typers
  const name = typeof user?.name === 'string' && user.name ? user.name : 'Someone'
  return { ...typers, [id]: { name, until: now + TYPING_SHOW_MS } }
}

/** Someone who just posted has stopped typing. */
export function stopTyping(typers: Typers, userId: number): Typers {
  if (!(String(userId) in typers)) return typers
  const next = { ...typers }
  delete next[String(userId)]
  return next
}

export function activeTypers(typers: Typers, now: number): string[] {
  return Object.values(typers)
    .filter((typer) => typer.until > now)
    .map((typer) => typer.name)
    .sort()
}

export function typingText(names: string[]): string {
  if (names.length === 0) return ''
  if (names.length === 1) return `${names[0]} is typing…`
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`
  return `${names.length} people are typing…`
}

/** Milliseconds until the next indicator expires (to re-render then), or null when nobody is shown. */
export function nextExpiry(typers: Typers, now: number): number | null {
  const pending = Object.values(typers)
    .map((typer) => typer.until - now)
    .filter((ms) => ms > 0)
  return pending.length ? Math.min(...pending) : null
}
