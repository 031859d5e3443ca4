// The one HTTP client: adds the access token, refreshes it once on 401 (single flight, shared by
// concurrent requests and, through a Web Lock, by every tab) and turns every failure into an ApiError
// carrying the server's error code.
//
// Where the session lives: the access token only in memory (a page script can read nothing at rest);
// the refresh token only in the HttpOnly `lf_refresh` cookie the server sets on every token response,
// which the browser sends to POST /api/auth/refresh and nowhere else. The `refresh_token` field the
// server also puts in token responses (for API clients) is ignored here. After a reload the app asks
// /api/auth/refresh for a new access token; a `learnflow.session` flag in localStorage (no secret in it)
// only says whether that is worth trying.

export interface TokenPair {
  access_token: string
  refresh_token?: string
  token_type?: string
  expires_in: number
}

/** The access token, kept in memory. */
export interface TokenStore {
  get(): string | null
  set(token: string | null): void
}

/** Whether this browser may hold a session (the refresh cookie itself is out of the page's reach). */
export interface SessionHint {
  get(): boolean
  set(signedIn: boolean): void
}

/** Runs `task` while holding a lock every tab of this origin shares. */
export type CrossTabLock = <T>(task: () => Promise<T>) => Promise<T>

export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly details: unknown

  constructor(status: number, code: string, message: string, details?: unknown) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.details = details
  }

  /** The message of a 422 field error, if the server named this field. */
  fieldMessage(field: string): string | undefined {
    if (!Array.isArray(this.details)) return undefined
    const match = this.details.find(
      (item): item is { field: string; message: string } =>
        typeof item === 'object' && item !== null && (item as { field?: unknown }).field === field,
    )
    return match?.message
  }
}

export type Query = Record<string, string | number | boolean | null | undefined>

export interface RequestOptions {
  query?: Query
  body?: unknown
  form?: FormData
  signal?: AbortSignal
  /** Return the raw Response (CSV downloads). */
  raw?: boolean
  /** Send no Authorization header and never refresh (login, register, refresh itself). */
  anonymous?: boolean
}

export interface Page<T> {
  items: T[]
  total: number
}

export interface ApiClientOptions {
  tokens: TokenStore
  hint?: SessionHint
  /** Serializes refreshes across tabs: two tabs presenting the same refresh cookie at once would look
   * like a stolen token being reused, and the server would end the session. */
  lock?: CrossTabLock
  /** A refresh token left in storage by an older version of the app, handed over once (then deleted). */
  takeLegacyRefreshToken?: () => string | null
  baseUrl?: string
  fetch?: typeof fetch
  /** Called when the session cannot be refreshed any more (the user must sign in again). */
  onSessionEnded?: () => void
}

export function buildUrl(baseUrl: string, path: string, query?: Query): string {
  const search = new URLSearchParams()
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== '') search.append(key, String(value))
  }
  const suffix = search.toString()
  return `${baseUrl}${path}${suffix ? `?${suffix}` : ''}`
}

async function toApiError(response: Response): Promise<ApiError> {
  let payload: unknown = null
  try {
    payload = await response.json()
  } catch {
    // Not JSON (a proxy's HTML error page, say): fall through to a generic message.
  }
  const error = (payload as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)?.error
  if (error && typeof error.code === 'string') {
    return new ApiError(response.status, error.code, String(error.message ?? error.code), error.details)
  }
  return new ApiError(response.status, `http_${response.status}`, response.statusText || 'Request failed')
}

export class ApiClient {
  private readonly tokens: TokenStore
  private readonly hint: SessionHint
  private readonly lock: CrossTabLock
  private readonly takeLegacyRefreshToken: () => string | null
  private readonly baseUrl: string
  private readonly fetchImpl: typeof fetch
  private readonly onSessionEnded?: () => void
  private refreshing: Promise<string | null> | null = null

  constructor(options: ApiClientOptions) {
    this.tokens = options.tokens
    this.hint = options.hint ?? memorySessionHint()
    this.lock = options.lock ?? ((task) => task())
    this.takeLegacyRefreshToken = options.takeLegacyRefreshToken ?? (() => null)
    this.baseUrl = options.baseUrl ?? ''
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init))
    this.onSessionEnded = options.onSessionEnded
  }

  accessToken(): string | null {
    return this.tokens.get()
  }

  signIn(tokens: TokenPair): void {
    this.tokens.set(tokens.access_token)
    this.hint.set(true)
  }

  signOut(): void {
    this.tokens.set(null)
    this.hint.set(false)
  }

  /** After a reload: an access token from the refresh cookie, if this browser has a session. */
  async restore(): Promise<boolean> {
    if (this.tokens.get()) return true
    return (await this.refresh()) !== null
  }

  /** A new access token from the refresh cookie; concurrent callers share one request. */
  refresh(): Promise<string | null> {
    if (!this.refreshing) {
      this.refreshing = this.doRefresh().finally(() => {
        this.refreshing = null
      })
    }
    return this.refreshing
  }

  private async doRefresh(): Promise<string | null> {
    const legacy = this.takeLegacyRefreshToken()
    if (!legacy && !this.tokens.get() && !this.hint.get()) return null
    return this.lock(async () => {
      let response: Response
      try {
        response = await this.fetchImpl(buildUrl(this.baseUrl, '/api/auth/refresh'), {
          method: 'POST',
          credentials: 'same-origin',
          headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
          // The cookie carries the token; a legacy one is sent once in the body, and the answer's
          // Set-Cookie moves the session into the cookie.
          body: JSON.stringify(legacy ? { refresh_token: legacy } : {}),
        })
      } catch {
        return null // offline: keep what we have, the next request tries again
      }
      if (!response.ok) {
        if (response.status === 401) {
          this.signOut()
          this.onSessionEnded?.()
        }
        return null
      }
      const tokens = (await response.json()) as TokenPair
      this.tokens.set(tokens.access_token)
      this.hint.set(true)
      return tokens.access_token
    })
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.send(method, path, options)
    if (options.raw) return response as unknown as T
    if (response.status === 204) return undefined as T
    return (await response.json()) as T
  }

  /** A list endpoint with its X-Total-Count. */
  async page<T>(path: string, query?: Query, signal?: AbortSignal): Promise<Page<T>> {
    const response = await this.send('GET', path, { query, signal })
    const items = (await response.json()) as T[]
    const total = Number(response.headers.get('X-Total-Count') ?? items.length)
    return { items, total: Number.isFinite(total) ? total : items.length }
  }

  get<T>(path: string, query?: Query, signal?: AbortSignal): Promise<T> {
    return this.request<T>('GET', path, { query, signal })
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('POST', path, { body })
  }

  put<T>(path: string, body?: unknown, query?: Query): Promise<T> {
    return this.request<T>('PUT', path, { body, query })
  }

  delete<T>(path: string): Promise<T> {
    return this.request<T>('DELETE', path)
  }

  private async send(method: string, path: string, options: RequestOptions): Promise<Response> {
    const first = await this.attempt(method, path, options)
    if (first.status !== 401 || options.anonymous || !this.tokens.get()) {
      return first.ok ? first : Promise.reject(await toApiError(first))
    }
    const renewed = await this.refresh()
    if (!renewed) throw await toApiError(first)
    const second = await this.attempt(method, path, options)
    if (!second.ok) throw await toApiError(second)
    return second
  }

  private async attempt(method: string, path: string, options: RequestOptions): Promise<Response> {
    const headers: Record<string, string> = { Accept: 'application/json' }
    let body: BodyInit | undefined
    if (options.form) {
      body = options.form
    } else if (options.body !== undefined) {
      headers['Content-Type'] = 'application/json'
      body = JSON.stringify(options.body)
    }
    const token = options.anonymous ? null : this.accessToken()
    if (token) headers.Authorization = `Bearer ${token}`
    try {
      return await this.fetchImpl(buildUrl(this.baseUrl, path, options.query), {
        method,
        headers,
        body,
        signal: options.signal,
      })
    } catch (error) {
      if (error instanceof DOMException && error.name === 'AbortError') throw error
      throw new ApiError(0, 'network_error', 'The server could not be reached. Check your connection.')
    }
  }
}

export function memoryTokenStore(initial: string | null = null): TokenStore {
  let token = initial
  return {
    get: () => token,
    set: (next) => {
      token = next
    },
  }
}

const HINT_KEY = 'learnflow.session'
const LEGACY_TOKENS_KEY = 'learnflow.tokens'

export function memorySessionHint(initial = false): SessionHint {
  let signedIn = initial
  return {
    get: () => signedIn,
    set: (next) => {
      signedIn = next
    },
  }
}

export function browserSessionHint(storage: Storage = window.localStorage): SessionHint {
  return {
    get: () => storage.getItem(HINT_KEY) === '1',
    set: (signedIn) => (signedIn ? storage.setItem(HINT_KEY, '1') : storage.removeItem(HINT_KEY)),
  }
}

/** Earlier versions kept the whole token pair in localStorage: hand its refresh token over once and
 * delete it, so nothing long-lived stays where page scripts can read it. */
export function takeLegacyRefreshToken(storage: Storage = window.localStorage): string | null {
  const raw = storage.getItem(LEGACY_TOKENS_KEY)
  if (raw === null) return null
  storage.removeItem(LEGACY_TOKENS_KEY)
  try {
    const token = (JSON.parse(raw) as { refresh_token?: unknown }).refresh_token
    return typeof token === 'string' && token ? token : null
  } catch {
    return null
  }
}

/** A Web Lock shared by the tabs of this origin, or none where the browser lacks the API. */
export function webLock(name: string, locks: LockManager | undefined = globalThis.navigator?.locks): CrossTabLock {
  if (!locks) return (task) => task()
  // request() resolves with what the task resolves with (the DOM typings nest the promise).
  return <T,>(task: () => Promise<T>) => locks.request(name, task) as unknown as Promise<T>
}

/** Seconds until a JWT expires (negative when expired), or null when it cannot be read. */
export function secondsUntilExpiry(token: string, now: number = Date.now()): number | null {
  const part = token.split('.')[1]
  if (!part) return null
  try {
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/'))
    const exp = (JSON.parse(json) as { exp?: unknown }).exp
    return typeof exp === 'number' ? exp - now / 1000 : null
  } catch {
    return null
  }
}
