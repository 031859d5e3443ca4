// The one HTTP client: adds the access token, refreshes it once on 401 (single flight, shared by
// concurrent requests) and turns every failure into an ApiError carrying the server's error code.

export interface TokenPair {
  access_token: string
  refresh_token: string
  token_type?: string
  expires_in: number
}

export interface TokenStore {
  get(): TokenPair | null
  set(tokens: TokenPair | null): void
}

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
  private readonly baseUrl: string
  private readonly fetchImpl: typeof fetch
  private readonly onSessionEnded?: () => void
  private refreshing: Promise<TokenPair | null> | null = null

  constructor(options: ApiClientOptions) {
    this.tokens = options.tokens
    this.baseUrl = options.baseUrl ?? ''
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init))
    this.onSessionEnded = options.onSessionEnded
  }

  accessToken(): string | null {
    return this.tokens.get()?.access_token ?? null
  }

  signIn(tokens: TokenPair): void {
    this.tokens.set(tokens)
  }

  signOut(): void {
    this.tokens.set(null)
  }

  /** A new token pair from the refresh token; concurrent callers share one request. */
  refresh(): Promise<TokenPair | null> {
    if (!this.refreshing) {
      this.refreshing = this.doRefresh().finally(() => {
        this.refreshing = null
      })
    }
    return this.refreshing
  }

  private async doRefresh(): Promise<TokenPair | null> {
    const current = this.tokens.get()
    if (!current) return null
    let response: Response
    try {
      response = await this.fetchImpl(buildUrl(this.baseUrl, '/api/auth/refresh'), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ refresh_token: current.refresh_token }),
      })
    } catch {
      return null // offline: keep the tokens, the next request tries again
    }
    if (!response.ok) {
      if (response.status === 401) {
        this.tokens.set(null)
        this.onSessionEnded?.()
      }
      return null
    }
    const tokens = (await response.json()) as TokenPair
    this.tokens.set(tokens)
    return tokens
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

const STORAGE_KEY = 'learnflow.tokens'

/** Tokens kept in localStorage so a reload keeps the session. */
export function browserTokenStore(storage: Storage = window.localStorage): TokenStore {
  return {
    get() {
      const raw = storage.getItem(STORAGE_KEY)
      if (!raw) return null
      try {
        return JSON.parse(raw) as TokenPair
      } catch {
        return null
      }
    },
    set(tokens) {
      if (tokens) storage.setItem(STORAGE_KEY, JSON.stringify(tokens))
      else storage.removeItem(STORAGE_KEY)
    },
  }
}

export function memoryTokenStore(initial: TokenPair | null = null): TokenStore {
  let tokens = initial
  return {
    get: () => tokens,
    set: (next) => {
      tokens = next
    },
  }
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
