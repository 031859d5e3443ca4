import { describe, expect, it } from 'vitest'
import { backoffDelay, LiveClient, LiveError, type LiveClientOptions, type Publication, type SocketLike } from './ws'

/** A socket the test drives: it records what the client sends and delivers what the test says the server sent. */
class ScriptedSocket implements SocketLike {
  readyState = 0
  sent: Record<string, unknown>[] = []
  closedWith: number | null = null
  onopen: ((event: unknown) => void) | null = null
  onmessage: ((event: { data: unknown }) => void) | null = null
  onclose: ((event: { code: number }) => void) | null = null
  onerror: ((event: unknown) => void) | null = null

  send(data: string): void {
    this.sent.push(JSON.parse(data) as Record<string, unknown>)
  }
  close(code = 1000): void {
    this.closedWith = code
    this.readyState = 3
  }
  open(): void {
    this.readyState = 1
    this.onopen?.({})
  }
  receive(frame: unknown): void {
    this.onmessage?.({ data: JSON.stringify(frame) })
  }
  drop(code: number): void {
    this.readyState = 3
    this.onclose?.({ code })
  }
  last(op: string): Record<string, unknown> {
    const frame = [...this.sent].reverse().find((item) => item.op === op)
    if (!frame) throw new Error(`no ${op} frame sent; sent: ${JSON.stringify(this.sent)}`)
    return frame
  }
  reply(op: string, fields: Record<string, unknown> = {}): void {
    this.receive({ id: this.last(op).id, ok: true, ...fields })
  }
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 0))

function harness(options: Partial<LiveClientOptions> = {}) {
  const sockets: ScriptedSocket[] = []
  const timers: { callback: () => void; ms: number }[] = []
  const tokens: boolean[] = []
  const client = new LiveClient({
    url: 'ws://test/ws',
    getToken: async (fresh) => {
      tokens.push(fresh)
      return fresh ? 'fresh-token' : 'token'
    },
    socketFactory: () => {
      const socket = new ScriptedSocket()
      sockets.push(socket)
      return socket
    },
    random: () => 0.5,
    setTimer: (callback, ms) => {
      timers.push({ callback, ms })
      return timers.length
    },
    clearTimer: () => undefined,
    ...options,
  })
  const socket = () => sockets[sockets.length - 1]
  /** Open the current socket and answer its auth frame. */
  const connect = async () => {
    socket().open()
    await flush()
    socket().reply('auth', { user_id: 1 })
    await flush()
  }
  /** Run the most recent timer (a reconnect) and let its promise chain settle. */
  const fireTimer = async () => {
    const timer = timers.pop()
    if (!timer) throw new Error('no timer pending')
    timer.callback()
    await flush()
    await flush()
  }
  return { client, sockets, socket, timers, tokens, connect, fireTimer }
}

const publication = (channel: string, offset: number, epoch = 'e1', data: unknown = { n: offset }) => ({
  channel,
  offset,
  epoch,
  event: 'comment.created',
  data,
})

describe('LiveClient', () => {
  it('authenticates with the first frame, then subscribes', async () => {
    const h = harness()
    h.client.subscribe('course:1:discussion', {})
    h.client.start()
    h.socket().open()
    await flush()
    expect(h.socket().sent[0]).toMatchObject({ op: 'auth', token: 'token' })
    expect(h.socket().sent).toHaveLength(1) // nothing before the auth reply
    h.socket().reply('auth')
    await flush()
    expect(h.client.status).toBe('open')
    expect(h.socket().last('subscribe')).toMatchObject({ channel: 'course:1:discussion' })
    expect(h.socket().last('subscribe').since).toBeUndefined()
  })

  it('reconnects with backoff and jitter, and resubscribes with since from the last offset', async () => {
    const h = harness()
    const received: Publication[] = []
    h.client.subscribe('course:1:discussion', { onPublication: (p) => received.push(p) })
    h.client.start()
    await h.connect()
    h.socket().reply('subscribe', { channel: 'course:1:discussion', offset: 4, epoch: 'e1' })
    await flush()
    h.socket().receive(publication('course:1:discussion', 5))
    h.socket().receive(publication('course:1:discussion', 6))
    expect(received.map((p) => p.offset)).toEqual([5, 6])

    h.socket().drop(1006)
    expect(h.client.status).toBe('reconnecting')
    expect(h.timers.at(-1)?.ms).toBe(backoffDelay(0, 500, 15_000, () => 0.5))
    await h.fireTimer()
    expect(h.sockets).toHaveLength(2)
    await h.connect()
    expect(h.socket().last('subscribe')).toMatchObject({ channel: 'course:1:discussion', since: { offset: 6, epoch: 'e1' } })
  })

  it('grows the backoff while the server stays down, capped', async () => {
    const h = harness()
    h.client.start()
    const delays: number[] = []
    for (let attempt = 0; attempt < 8; attempt += 1) {
      h.socket().drop(1006)
      delays.push(h.timers.at(-1)!.ms)
      await h.fireTimer()
    }
    expect(delays).toEqual([375, 750, 1500, 3000, 6000, 11250, 11250, 11250])
    expect(backoffDelay(3, 500, 15_000, () => 0)).toBe(2000)
    expect(backoffDelay(3, 500, 15_000, () => 0.999)).toBeLessThan(4000)
  })

  it('drops publications already delivered (same epoch, offset not newer)', async () => {
    const h = harness()
    const received: number[] = []
    h.client.subscribe('course:2:discussion', { onPublication: (p) => received.push(p.offset!) })
    h.client.start()
    await h.connect()
    h.socket().reply('subscribe', { offset: 10, epoch: 'e1' })
    await flush()
    for (const offset of [11, 12, 11, 12, 13, 10]) h.socket().receive(publication('course:2:discussion', offset))
    expect(received).toEqual([11, 12, 13])

    // After a reconnect the server replays from `since`; the overlap is not delivered twice.
    h.socket().drop(1006)
    await h.fireTimer()
    await h.connect()
    h.socket().reply('subscribe', { offset: 14, epoch: 'e1', recovered: true })
    await flush()
    for (const offset of [13, 14]) h.socket().receive(publication('course:2:discussion', offset))
    expect(received).toEqual([11, 12, 13, 14])
  })

  it('accepts a new epoch and publications without an offset (typing)', async () => {
    const h = harness()
    const received: (number | null)[] = []
    h.client.subscribe('c', { onPublication: (p) => received.push(p.offset) })
    h.client.start()
    await h.connect()
    h.socket().reply('subscribe', { offset: 5, epoch: 'e1' })
    await flush()
    h.socket().receive({ channel: 'c', offset: null, epoch: '', event: 'typing', data: {} })
    h.socket().receive(publication('c', 1, 'e2'))
    h.socket().receive(publication('c', 1, 'e2'))
    expect(received).toEqual([null, 1])
  })

  it('asks the view to refetch when the server answers recovered: false', async () => {
    const h = harness()
    let refetches = 0
    const received: number[] = []
    h.client.subscribe('course:3:leaderboard', { onRecoveryFailed: () => (refetches += 1), onPublication: (p) => received.push(p.offset!) })
    h.client.start()
    await h.connect()
    h.socket().reply('subscribe', { offset: 3, epoch: 'old' })
    await flush()
    h.socket().drop(1006)
    await h.fireTimer()
    await h.connect()
    expect(h.socket().last('subscribe').since).toEqual({ offset: 3, epoch: 'old' })
    h.socket().reply('subscribe', { offset: 7, epoch: 'new', recovered: false })
    await flush()
    expect(refetches).toBe(1)
    h.socket().receive(publication('course:3:leaderboard', 7, 'new'))
    h.socket().receive(publication('course:3:leaderboard', 8, 'new'))
    expect(received).toEqual([8])
  })

  it('refetches on the resubscribe control frame and forgets the position', async () => {
    const h = harness()
    let refetches = 0
    h.client.subscribe('c', { onRecoveryFailed: () => (refetches += 1) })
    h.client.start()
    await h.connect()
    h.socket().reply('subscribe', { offset: 3, epoch: 'e1' })
    await flush()
    h.socket().receive({ channel: 'c', event: 'resubscribe', recovered: false })
    expect(refetches).toBe(1)
    h.socket().drop(1006)
    await h.fireTimer()
    await h.connect()
    expect(h.socket().last('subscribe').since).toBeUndefined()
  })

  it('reports refused and withdrawn subscriptions', async () => {
    const h = harness()
    const refusals: string[] = []
    h.client.subscribe('admin:analytics', { onRefused: (code) => refusals.push(code) })
    h.client.start()
    await h.connect()
    h.socket().receive({ id: h.socket().last('subscribe').id, ok: false, error: { code: 'forbidden', message: 'no' } })
    await flush()
    h.socket().receive({ channel: 'admin:analytics', event: 'unsubscribed', reason: 'forbidden' })
    expect(refusals).toEqual(['forbidden', 'forbidden'])
  })

  it('shares one subscription between listeners and unsubscribes after the last one leaves', async () => {
    const h = harness()
    h.client.start()
    await h.connect()
    const first = h.client.subscribe('c', {})
    const second = h.client.subscribe('c', {})
    expect(h.socket().sent.filter((f) => f.op === 'subscribe')).toHaveLength(1)
    h.socket().reply('subscribe', { offset: 0, epoch: 'e' })
    await flush()
    first()
    expect(h.socket().sent.filter((f) => f.op === 'unsubscribe')).toHaveLength(0)
    second()
    expect(h.socket().last('unsubscribe')).toMatchObject({ channel: 'c' })
  })

  it('gets a fresh token before reconnecting after 4009 (expired) or 4001', async () => {
    const h = harness()
    h.client.start()
    await h.connect()
    h.socket().drop(4009)
    await h.fireTimer()
    expect(h.tokens).toContain(true)
    h.socket().open()
    await flush()
    expect(h.sockets).toHaveLength(2)
  })

  it('stops for good when the session ended (4003)', async () => {
    let ended = 0
    const h = harness({ onSessionEnded: () => (ended += 1) })
    h.client.start()
    await h.connect()
    h.socket().drop(4003)
    expect(h.client.status).toBe('closed')
    expect(ended).toBe(1)
    expect(h.timers).toHaveLength(0) // no reconnect scheduled
  })

  it('sends refresh with a new token before the access token expires', async () => {
    const payload = btoa(JSON.stringify({ exp: Math.floor(Date.now() / 1000) + 600 }))
    const jwt = `h.${payload}.s`
    const h = harness({ getToken: async (fresh) => (fresh ? 'renewed' : jwt), refreshLeadSeconds: 60 })
    h.client.start()
    await h.connect()
    const refreshTimer = h.timers.at(-1)!
    expect(refreshTimer.ms).toBeGreaterThan(530_000)
    expect(refreshTimer.ms).toBeLessThanOrEqual(540_000)
    await h.fireTimer()
    expect(h.socket().last('refresh')).toMatchObject({ token: 'renewed' })
  })

  it('rejects requests while disconnected and fails pending ones on close', async () => {
    const h = harness()
    await expect(h.client.request({ op: 'heartbeat' })).rejects.toMatchObject({ code: 'not_connected' })
    h.client.start()
    await h.connect()
    const pending = h.client.request({ op: 'heartbeat', course_id: 1 })
    h.socket().drop(1006)
    await expect(pending).rejects.toBeInstanceOf(LiveError)
  })

  it('ignores garbage frames', async () => {
    const h = harness()
    const received: unknown[] = []
    h.client.subscribe('c', { onPublication: (p) => received.push(p) })
    h.client.start()
    await h.connect()
    h.socket().onmessage?.({ data: 'not json' })
    h.socket().onmessage?.({ data: new ArrayBuffer(2) })
    h.socket().receive({ event: 'ping' })
    h.socket().receive(publication('other-channel', 1))
    expect(received).toEqual([])
    expect(h.client.status).toBe('open')
  })
})
