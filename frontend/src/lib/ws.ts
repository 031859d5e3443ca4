// The one WebSocket client shared by every live view (protocol: README "Real time").
// It authenticates with the first frame, reconnects with capped, jittered exponential backoff,
// resubscribes with `since` from the last offset seen, drops publications it has already delivered
// (at-least-once delivery), tells a view to refetch over REST when the server answers
// `recovered: false`, and sends `refresh` with a new token before the access token expires.

import { secondsUntilExpiry } from './api'

export type LiveStatus = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed'

export interface Publication<T = unknown> {
  channel: string
  offset: number | null
  epoch: string
  event: string
  data: T
}

export interface PresenceDiff {
  channel: string
  joins: unknown[]
  leaves: unknown[]
}

export interface ChannelListener {
  onPublication?(publication: Publication): void
  /** History could not fill a gap: reload the view's data over REST. */
  onRecoveryFailed?(): void
  onPresence?(diff: PresenceDiff): void
  /** The server refused or withdrew the subscription (`forbidden`, `too_many_subscriptions`…). */
  onRefused?(code: string, message: string): void
}

export interface Reply {
  id?: number | string
  ok: boolean
  error?: { code: string; message: string }
  [field: string]: unknown
}

export class LiveError extends Error {
  readonly code: string
  constructor(code: string, message: string) {
    super(message)
    this.name = 'LiveError'
    this.code = code
  }
}

/** The part of the browser WebSocket this client uses, so tests can hand in a scripted socket. */
export interface SocketLike {
  readyState: number
  send(data: string): void
  close(code?: number, reason?: string): void
  onopen: ((event: unknown) => void) | null
  onmessage: ((event: { data: unknown }) => void) | null
  onclose: ((event: { code: number; reason?: string }) => void) | null
  onerror: ((event: unknown) => void) | null
}

export type SocketFactory = (url: string) => SocketLike

export interface LiveClientOptions {
  url: string
  /** The current access token, refreshed by the caller when `fresh` is asked or it is near expiry. */
  getToken(fresh: boolean): Promise<string | null>
  socketFactory?: SocketFactory
  backoffBaseMs?: number
  backoffMaxMs?: number
  random?: () => number
  /** Seconds before expiry at which the token is renewed on an open connection. */
  refreshLeadSeconds?: number
  /** The account was signed out or deactivated while connected (close 4003): stop for good. */
  onSessionEnded?(): void
  setTimer?: (callback: () => void, ms: number) => unknown
  clearTimer?: (handle: unknown) => void
}

const OPEN = 1
/** Close codes after which reconnecting cannot help until the user signs in again. */
const FINAL_CODES = new Set([4003])
/** Close codes that mean "get a fresh token first". */
const TOKEN_CODES = new Set([4001, 4009])

interface ChannelState {
  listeners: Set<ChannelListener>
  offset: number | null
  epoch: string | null
  subscribed: boolean
}

interface Pending {
  resolve(reply: Reply): void
  reject(error: Error): void
}

export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** attempt)
  // "Equal jitter": at least half the ceiling, so a fleet of clients never reconnects in lockstep.
  return ceiling / 2 + random() * (ceiling / 2)
}

export class LiveClient {
  private readonly options: Required<
    Pick<LiveClientOptions, 'backoffBaseMs' | 'backoffMaxMs' | 'random' | 'refreshLeadSeconds'>
  > &
    LiveClientOptions
  private socket: SocketLike | null = null
  private readonly channels = new Map<string, ChannelState>()
  private readonly pending = new Map<number, Pending>()
  private readonly statusListeners = new Set<(status: LiveStatus) => void>()
  private nextId = 1
  private attempt = 0
  private reconnectTimer: unknown = null
  private refreshTimer: unknown = null
  private running = false
  private authenticated = false
  private generation = 0
  status: LiveStatus = 'idle'

  constructor(options: LiveClientOptions) {
    this.options = {
      backoffBaseMs: 500,
      backoffMaxMs: 15_000,
      random: Math.random,
      refreshLeadSeconds: 60,
      ...options,
    }
  }

  start(): void {
    if (this.running) return
    this.running = true
    this.connect()
  }

  stop(): void {
    this.running = false
    this.generation += 1
    this.clearTimer(this.reconnectTimer)
    this.clearTimer(this.refreshTimer)
    this.reconnectTimer = this.refreshTimer = null
    const socket = this.socket
    this.socket = null
    this.authenticated = false
    for (const state of this.channels.values()) state.subscribed = false
    this.failPending(new LiveError('closed', 'connection closed'))
    if (socket && socket.readyState <= OPEN) socket.close(1000)
    this.setStatus('closed')
  }

  /** Reconnect now (after sign-in, or when a new token is available). */
  restart(): void {
    this.stop()
    this.attempt = 0
    this.start()
  }

  onStatus(listener: (status: LiveStatus) => void): () => void {
    this.statusListeners.add(listener)
    listener(this.status)
    return () => this.statusListeners.delete(listener)
  }

  /** Listen to a channel; the subscription is shared and survives reconnects. Returns the undo. */
  subscribe(channel: string, listener: ChannelListener): () => void {
    let state = this.channels.get(channel)
    if (!state) {
      state = { listeners: new Set(), offset: null, epoch: null, subscribed: false }
      this.channels.set(channel, state)
    }
    state.listeners.add(listener)
    if (state.listeners.size === 1 && this.authenticated) void this.sendSubscribe(channel, state)
    return () => this.unsubscribe(channel, listener)
  }

  private unsubscribe(channel: string, listener: ChannelListener): void {
    const state = this.channels.get(channel)
    if (!state) return
    state.listeners.delete(listener)
    if (state.listeners.size > 0) return
    this.channels.delete(channel)
    if (state.subscribed && this.authenticated) {
      this.request({ op: 'unsubscribe', channel }).catch(() => undefined)
    }
  }

  /** Send an op and wait for its reply; rejects with LiveError when refused or not connected. */
  request(frame: Record<string, unknown>): Promise<Reply> {
    const socket = this.socket
    if (!socket || socket.readyState !== OPEN || (!this.authenticated && frame.op !== 'auth')) {
      return Promise.reject(new LiveError('not_connected', 'the live connection is not open'))
    }
    const id = this.nextId++
    return new Promise<Reply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      socket.send(JSON.stringify({ ...frame, id }))
    })
  }

  private connect(): void {
    if (!this.running) return
    const generation = ++this.generation
    this.setStatus(this.attempt === 0 ? 'connecting' : 'reconnecting')
    const factory = this.options.socketFactory ?? ((url: string) => new WebSocket(url) as unknown as SocketLike)
    let socket: SocketLike
    try {
      socket = factory(this.options.url)
    } catch {
      this.scheduleReconnect(false)
      return
    }
    this.socket = socket
    socket.onopen = () => {
      if (generation === this.generation) void this.authenticate(socket, generation)
    }
    socket.onmessage = (event) => {
      if (generation === this.generation) this.handleFrame(event.data)
    }
    socket.onclose = (event) => {
      if (generation === this.generation) this.handleClose(event.code)
    }
    socket.onerror = () => undefined // onclose follows and decides what to do
  }

  private async authenticate(socket: SocketLike, generation: number, freshToken = false): Promise<void> {
    const token = await this.options.getToken(freshToken)
    if (generation !== this.generation) return
    if (!token) {
      // Signed out: nothing to authenticate as. Stay idle until restart().
      this.running = false
      socket.close(1000)
      this.setStatus('closed')
      return
    }
    const id = this.nextId++
    this.pending.set(id, {
      resolve: () => {
        this.authenticated = true
        this.attempt = 0
        this.setStatus('open')
        this.scheduleTokenRefresh(token)
        for (const [channel, state] of this.channels) void this.sendSubscribe(channel, state)
      },
      reject: () => undefined, // the server closes with 4001 and handleClose reconnects
    })
    socket.send(JSON.stringify({ op: 'auth', token, id }))
  }

  private async sendSubscribe(channel: string, state: ChannelState): Promise<void> {
    const frame: Record<string, unknown> = { op: 'subscribe', channel }
    const resuming = state.offset !== null && state.epoch !== null
    if (resuming) frame.since = { offset: state.offset, epoch: state.epoch }
    let reply: Reply
    try {
      reply = await this.request(frame)
    } catch (error) {
      if (error instanceof LiveError && error.code !== 'not_connected' && error.code !== 'closed') {
        for (const listener of state.listeners) listener.onRefused?.(error.code, error.message)
      }
      return
    }
    if (this.channels.get(channel) !== state) return
    state.subscribed = true
    const epoch = typeof reply.epoch === 'string' ? reply.epoch : null
    const offset = typeof reply.offset === 'number' ? reply.offset : null
    if (resuming && reply.recovered === false) {
      state.epoch = epoch
      state.offset = offset
      for (const listener of state.listeners) listener.onRecoveryFailed?.()
      return
    }
    if (!resuming || state.epoch !== epoch) {
      state.epoch = epoch
      state.offset = offset
    }
    // When resuming, the missed publications follow this reply and advance the offset themselves.
  }

  private handleFrame(raw: unknown): void {
    if (typeof raw !== 'string') return
    let frame: Record<string, unknown>
    try {
      frame = JSON.parse(raw) as Record<string, unknown>
    } catch {
      return
    }
    if (typeof frame.ok === 'boolean') {
      this.handleReply(frame as unknown as Reply)
      return
    }
    const channel = typeof frame.channel === 'string' ? frame.channel : null
    if (!channel) return // server ping: the server only checks that the socket is alive
    const state = this.channels.get(channel)
    if (!state) return
    switch (frame.event) {
      case 'presence':
        for (const listener of state.listeners) listener.onPresence?.(frame as unknown as PresenceDiff)
        return
      case 'resubscribe':
        // The relay lost Redis and history could not fill the gap: positions mean nothing now.
        state.offset = null
        state.epoch = null
        for (const listener of state.listeners) listener.onRecoveryFailed?.()
        return
      case 'unsubscribed':
        state.subscribed = false
        for (const listener of state.listeners) {
          listener.onRefused?.(String(frame.reason ?? 'forbidden'), 'access to this channel was withdrawn')
        }
        return
    }
    this.deliver(state, frame as unknown as Publication)
  }

  private deliver(state: ChannelState, publication: Publication): void {
    const offset = typeof publication.offset === 'number' ? publication.offset : null
    if (offset !== null) {
      if (state.epoch === publication.epoch && state.offset !== null && offset <= state.offset) return
      if (state.epoch !== publication.epoch) state.epoch = publication.epoch
      state.offset = offset
    }
    for (const listener of state.listeners) listener.onPublication?.(publication)
  }

  private handleReply(reply: Reply): void {
    if (typeof reply.id !== 'number') return
    const pending = this.pending.get(reply.id)
    if (!pending) return
    this.pending.delete(reply.id)
    if (reply.ok) pending.resolve(reply)
    else pending.reject(new LiveError(reply.error?.code ?? 'error', reply.error?.message ?? 'refused'))
  }

  private handleClose(code: number): void {
    this.socket = null
    this.authenticated = false
    for (const state of this.channels.values()) state.subscribed = false
    this.clearTimer(this.refreshTimer)
    this.refreshTimer = null
    this.failPending(new LiveError('closed', `connection closed (${code})`))
    if (!this.running) return
    if (FINAL_CODES.has(code)) {
      this.running = false
      this.setStatus('closed')
      this.options.onSessionEnded?.()
      return
    }
    this.scheduleReconnect(TOKEN_CODES.has(code))
  }

  private scheduleReconnect(freshToken: boolean): void {
    this.setStatus('reconnecting')
    const delay = backoffDelay(this.attempt, this.options.backoffBaseMs, this.options.backoffMaxMs, this.options.random)
    this.attempt += 1
    this.reconnectTimer = this.setTimer(() => {
      this.reconnectTimer = null
      if (freshToken) {
        // Ask for a fresh token up front; connect() then authenticates with it.
        void this.options.getToken(true).then(() => this.connect())
      } else {
        this.connect()
      }
    }, delay)
  }

  private scheduleTokenRefresh(token: string): void {
    this.clearTimer(this.refreshTimer)
    const remaining = secondsUntilExpiry(token)
    if (remaining === null) return
    const delayMs = Math.max(1_000, (remaining - this.options.refreshLeadSeconds) * 1000)
    this.refreshTimer = this.setTimer(() => void this.renewToken(), delayMs)
  }

  private async renewToken(): Promise<void> {
    this.refreshTimer = null
    const token = await this.options.getToken(true)
    if (!token || !this.authenticated) return
    try {
      await this.request({ op: 'refresh', token })
      this.scheduleTokenRefresh(token)
    } catch {
      // Refused or disconnected: the server closes with 4009 at expiry and we reconnect fresh.
    }
  }

  private failPending(error: Error): void {
    const pending = [...this.pending.values()]
    this.pending.clear()
    for (const entry of pending) entry.reject(error)
  }

  private setStatus(status: LiveStatus): void {
    if (this.status === status) return
    this.status = status
    for (const listener of this.statusListeners) listener(status)
  }

  private setTimer(callback: () => void, ms: number): unknown {
    return (this.options.setTimer ?? ((cb, delay) => setTimeout(cb, delay)))(callback, ms)
  }

  private clearTimer(handle: unknown): void {
    if (handle === null || handle === undefined) return
    ;(this.options.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>)))(handle)
  }
}
