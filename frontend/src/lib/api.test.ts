import { describe, expect, it, vi } from 'vitest'
import {
  ApiClient,
  ApiError,
  buildUrl,
  browserSessionHint,
  memorySessionHint,
  memoryTokenStore,
  secondsUntilExpiry,
  takeLegacyRefreshToken,
  webLock,
  type TokenPair,
} from './api'

const pair = (access: string, refresh = `r-${access}`): TokenPair => ({
  access_token: access,
  refresh_token: refresh,
  expires_in: 900,
})

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } })
}

interface Call {
  url: string
  method: string
  authorization: string | null
  body: unknown
  credentials?: RequestCredentials
}

/** A scripted server: each handler sees the call and answers. */
function scriptedFetch(handler: (call: Call) => Response | Promise<Response>) {
  const calls: Call[] = []
  const fetchImpl = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const headers = new Headers(init?.headers)
    const call: Call = {
      url: String(input),
      method: init?.method ?? 'GET',
      authorization: headers.get('Authorization'),
      body: typeof init?.body === 'string' ? JSON.parse(init.body) : init?.body ?? null,
      ...(init?.credentials ? { credentials: init.credentials } : {}),
    }
    calls.push(call)
    return handler(call)
  })
  return { calls, fetchImpl: fetchImpl as unknown as typeof fetch }
}

describe('ApiClient', () => {
  it('sends the access token and JSON body', async () => {
    const { calls, fetchImpl } = scriptedFetch(() => json(201, { id: 7 }))
    const client = new ApiClient({ tokens: memoryTokenStore('A1'), fetch: fetchImpl })
    const result = await client.post<{ id: number }>('/api/courses', { title: 'T' })
    expect(result).toEqual({ id: 7 })
    expect(calls).toEqual([{ url: '/api/courses', method: 'POST', authorization: 'Bearer A1', body: { title: 'T' } }])
  })

  it('refreshes once on 401 from the cookie and retries with the new token', async () => {
    const tokens = memoryTokenStore('old')
    const { calls, fetchImpl } = scriptedFetch((call) => {
      if (call.url === '/api/auth/refresh') return json(200, pair('new'))
      return call.authorization === 'Bearer new'
        ? json(200, { ok: true })
        : json(401, { error: { code: 'token_expired', message: 'expired' } })
    })
    const client = new ApiClient({ tokens, fetch: fetchImpl })
    await expect(client.get('/api/auth/me')).resolves.toEqual({ ok: true })
    expect(calls.map((call) => call.url)).toEqual(['/api/auth/me', '/api/auth/refresh', '/api/auth/me'])
    // The refresh token travels in the HttpOnly cookie, never in the page: the body names none.
    expect(calls[1].body).toEqual({})
    expect(calls[1].credentials).toBe('same-origin')
    expect(tokens.get()).toBe('new')
  })

  it('shares one refresh between concurrent 401s', async () => {
    let refreshes = 0
    const { fetchImpl } = scriptedFetch(async (call) => {
      if (call.url === '/api/auth/refresh') {
        refreshes += 1
        await new Promise((resolve) => setTimeout(resolve, 5))
        return json(200, pair('new'))
      }
      return call.authorization === 'Bearer new' ? json(200, call.url) : json(401, { error: { code: 'token_expired', message: 'x' } })
    })
    const client = new ApiClient({ tokens: memoryTokenStore('old'), fetch: fetchImpl })
    const results = await Promise.all([client.get('/a'), client.get('/b'), client.get('/c')])
    expect(results).toEqual(['/a', '/b', '/c'])
    expect(refreshes).toBe(1)
  })

  it('ends the session when the refresh token is refused', async () => {
    const tokens = memoryTokenStore('old')
    const ended = vi.fn()
    const { fetchImpl } = scriptedFetch(() => json(401, { error: { code: 'invalid_token', message: 'no' } }))
    const client = new ApiClient({ tokens, fetch: fetchImpl, onSessionEnded: ended })
    const failure = await client.get('/api/auth/me').catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(ApiError)
    expect((failure as ApiError).status).toBe(401)
    expect(tokens.get()).toBeNull()
    expect(ended).toHaveBeenCalledOnce()
  })

  it('does not refresh for anonymous calls or without a session', async () => {
    const { calls, fetchImpl } = scriptedFetch(() => json(401, { error: { code: 'invalid_credentials', message: 'Wrong email or password' } }))
    const client = new ApiClient({ tokens: memoryTokenStore(null), fetch: fetchImpl })
    const failure = (await client.post('/api/auth/login', { email: 'a@b.c', password: 'x' }).catch((e: unknown) => e)) as ApiError
    expect(failure.code).toBe('invalid_credentials')
    expect(failure.message).toBe('Wrong email or password')
    expect(calls).toHaveLength(1)
    expect(calls[0].authorization).toBeNull()
  })

  it('normalizes error bodies, including non-JSON ones and network failures', async () => {
    const details = [{ field: 'password', location: 'body', message: 'too short' }]
    let answer: () => Response | Promise<Response> = () =>
      json(422, { error: { code: 'validation_error', message: 'Invalid input', details } })
    const { fetchImpl } = scriptedFetch(() => answer())
    const client = new ApiClient({ tokens: memoryTokenStore(null), fetch: fetchImpl })

    const invalid = (await client.post('/api/auth/register', {}).catch((e: unknown) => e)) as ApiError
    expect([invalid.status, invalid.code, invalid.fieldMessage('password'), invalid.fieldMessage('email')]).toEqual([
      422,
      'validation_error',
      'too short',
      undefined,
    ])

    answer = () => new Response('<html>Bad gateway</html>', { status: 502, statusText: 'Bad Gateway' })
    const proxy = (await client.get('/api/courses').catch((e: unknown) => e)) as ApiError
    expect([proxy.status, proxy.code, proxy.message]).toEqual([502, 'http_502', 'Bad Gateway'])

    answer = () => Promise.reject(new TypeError('fetch failed'))
    const offline = (await client.get('/api/courses').catch((e: unknown) => e)) as ApiError
    expect([offline.status, offline.code]).toEqual([0, 'network_error'])
  })

  it('reads X-Total-Count for pages and drops empty query values', async () => {
    const { calls, fetchImpl } = scriptedFetch(() => json(200, [{ id: 1 }, { id: 2 }], { 'X-Total-Count': '42' }))
    const client = new ApiClient({ tokens: memoryTokenStore(null), fetch: fetchImpl })
    const page = await client.page('/api/courses', { search: 'py thon', level: '', category: undefined, skip: 0 })
    expect(page).toEqual({ items: [{ id: 1 }, { id: 2 }], total: 42 })
    expect(calls[0].url).toBe('/api/courses?search=py+thon&skip=0')
  })
})

function fakeStorage(initial: Record<string, string> = {}): Storage {
  const data = new Map(Object.entries(initial))
  return {
    get length() {
      return data.size
    },
    clear: () => data.clear(),
    getItem: (key) => data.get(key) ?? null,
    key: (index) => [...data.keys()][index] ?? null,
    removeItem: (key) => void data.delete(key),
    setItem: (key, value) => void data.set(key, String(value)),
  }
}

describe('session restore', () => {
  it('keeps only the access token, in memory, and never stores the refresh token', async () => {
    const tokens = memoryTokenStore()
    const storage = fakeStorage()
    const client = new ApiClient({ tokens, hint: browserSessionHint(storage), fetch: scriptedFetch(() => json(200, {})).fetchImpl })
    client.signIn(pair('A1', 'secret-refresh'))
    expect(tokens.get()).toBe('A1')
    expect(storage.getItem('learnflow.session')).toBe('1')
    expect(JSON.stringify(Object.fromEntries([...Array(storage.length).keys()].map((i) => [storage.key(i), storage.getItem(storage.key(i)!)])))).not.toContain('secret-refresh')
    client.signOut()
    expect([tokens.get(), storage.getItem('learnflow.session')]).toEqual([null, null])
  })

  it('after a reload asks the refresh cookie for an access token, only when a session may exist', async () => {
    const { calls, fetchImpl } = scriptedFetch(() => json(200, pair('fresh')))
    const anonymous = new ApiClient({ tokens: memoryTokenStore(), hint: memorySessionHint(false), fetch: fetchImpl })
    expect(await anonymous.restore()).toBe(false)
    expect(calls).toHaveLength(0)
    const returning = new ApiClient({ tokens: memoryTokenStore(), hint: memorySessionHint(true), fetch: fetchImpl })
    expect(await returning.restore()).toBe(true)
    expect(returning.accessToken()).toBe('fresh')
    expect(calls.map((call) => [call.url, call.body])).toEqual([['/api/auth/refresh', {}]])
  })

  it('a stale hint ends quietly in the signed-out state', async () => {
    const hint = memorySessionHint(true)
    const ended = vi.fn()
    const { fetchImpl } = scriptedFetch(() => json(401, { error: { code: 'invalid_refresh_token', message: 'no' } }))
    const client = new ApiClient({ tokens: memoryTokenStore(), hint, fetch: fetchImpl, onSessionEnded: ended })
    expect(await client.restore()).toBe(false)
    expect([hint.get(), client.accessToken()]).toEqual([false, null])
    expect(ended).toHaveBeenCalledOnce()
  })

  it('moves a token pair left in localStorage by an older version into the cookie, once', async () => {
    const storage = fakeStorage({ 'learnflow.tokens': JSON.stringify(pair('old-access', 'legacy-refresh')) })
    const { calls, fetchImpl } = scriptedFetch(() => json(200, pair('new')))
    const client = new ApiClient({
      tokens: memoryTokenStore(),
      hint: browserSessionHint(storage),
      takeLegacyRefreshToken: () => takeLegacyRefreshToken(storage),
      fetch: fetchImpl,
    })
    expect(await client.restore()).toBe(true)
    expect(calls[0].body).toEqual({ refresh_token: 'legacy-refresh' })
    expect(storage.getItem('learnflow.tokens')).toBeNull()
    expect(storage.getItem('learnflow.session')).toBe('1')
    expect(takeLegacyRefreshToken(storage)).toBeNull()
  })

  it('refreshes under the cross-tab lock, one tab after the other', async () => {
    const order: string[] = []
    let held = Promise.resolve()
    const lock = <T,>(task: () => Promise<T>): Promise<T> => {
      const run = held.then(task)
      held = run.then(
        () => undefined,
        () => undefined,
      )
      return run
    }
    let n = 0
    const { fetchImpl } = scriptedFetch(async () => {
      const mine = ++n
      order.push(`start ${mine}`)
      await new Promise((resolve) => setTimeout(resolve, 5))
      order.push(`end ${mine}`)
      return json(200, pair(`A${mine}`))
    })
    const tabs = [1, 2].map(() => new ApiClient({ tokens: memoryTokenStore('old'), lock, fetch: fetchImpl }))
    await Promise.all(tabs.map((tab) => tab.refresh()))
    expect(order).toEqual(['start 1', 'end 1', 'start 2', 'end 2'])
  })

  it('webLock uses the Web Locks API when there is one', async () => {
    const request = vi.fn((_name: string, task: () => Promise<unknown>) => task())
    const lock = webLock('learnflow.refresh', { request } as unknown as LockManager)
    expect(await lock(async () => 42)).toBe(42)
    expect(request).toHaveBeenCalledWith('learnflow.refresh', expect.any(Function))
    expect(await webLock('x', undefined)(async () => 'no locks')).toBe('no locks')
  })
})

describe('helpers', () => {
  it('buildUrl joins base, path and query', () => {
    expect(buildUrl('http://x', '/api/a', { b: 1, c: true })).toBe('http://x/api/a?b=1&c=true')
  })

  it('secondsUntilExpiry reads the JWT exp claim', () => {
    const payload = btoa(JSON.stringify({ exp: 1_000 })).replace(/=+$/, '')
    expect(secondsUntilExpiry(`h.${payload}.s`, 900_000)).toBe(100)
    expect(secondsUntilExpiry('not-a-jwt')).toBeNull()
  })
})
