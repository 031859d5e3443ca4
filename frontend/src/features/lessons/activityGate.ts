// Heartbeat gating, kept free of the DOM so it can be unit-tested: time counts only while the tab is
// visible and the learner interacted (pointer, key, scroll, a playing video) within the last minute.

export const IDLE_AFTER_MS = 60_000
export const MAX_HEARTBEAT_SECONDS = 60
export const HEARTBEAT_INTERVAL_MS = 15_000

export interface Heartbeat {
  seconds_spent: number
  seq: number
}

export class ActivityGate {
  private visible: boolean
  private lastInteraction: number | null = null
  private accruedUntil: number
  private activeMs = 0
  private lastSeq = 0

  constructor(now: number, visible: boolean) {
    this.visible = visible
    this.accruedUntil = now
  }

  /** Whether the learner counts as present right now. */
  isActive(now: number): boolean {
    return this.visible && this.lastInteraction !== null && now - this.lastInteraction <= IDLE_AFTER_MS
  }

  /** Active milliseconds accrued and not yet sent. */
  pendingMs(now: number): number {
    this.accrue(now)
    return this.activeMs
  }

  interact(now: number): void {
    this.accrue(now)
    this.lastInteraction = now
  }

  setVisible(visible: boolean, now: number): void {
    this.accrue(now)
    this.visible = visible
  }

  /** The periodic heartbeat: only while visible and recently active, and only with a whole second to report. */
  tick(now: number): Heartbeat | null {
    this.accrue(now)
    if (!this.isActive(now)) return null
    return this.take(now)
  }

  /** The time of a heartbeat the server was too busy to take: the next heartbeat carries it, within the
   * 60 s one may carry. */
  giveBack(seconds: number): void {
    this.activeMs += seconds * 1000
  }

  /** On hiding the tab or leaving the lesson: report the active time already accrued, if any. */
  flush(now: number): Heartbeat | null {
    this.accrue(now)
    return this.take(now)
  }

  /** Strictly increasing and time-based, so a reloaded page keeps going past the last seq the server saw. */
  nextSeq(now: number): number {
    this.lastSeq = Math.max(this.lastSeq + 1, Math.floor(now))
    return this.lastSeq
  }

  private take(now: number): Heartbeat | null {
    const whole = Math.floor(this.activeMs / 1000)
    if (whole < 1) return null
    const seconds = Math.min(MAX_HEARTBEAT_SECONDS, whole)
    // Beyond the cap the server would refuse the time anyway; keep only the sub-second remainder.
    this.activeMs = whole > MAX_HEARTBEAT_SECONDS ? 0 : this.activeMs - seconds * 1000
    return { seconds_spent: seconds, seq: this.nextSeq(now) }
  }

  /** Add the part of [accruedUntil, now] during which the tab was visible and the learner not idle. */
  private accrue(now: number): void {
    const from = this.accruedUntil
    if (now <= from) return
    this.accruedUntil = now
    if (!this.visible || this.lastInteraction === null) return
    const activeUntil = Math.min(now, this.lastInteraction + IDLE_AFTER_MS)
    if (activeUntil > from) this.activeMs += activeUntil - from
  }
}
