// Delivers one heartbeat: over the live link, over REST while the link is down. A refusal because the
// server is busy right now (`overloaded`, `store_unavailable`) is sent again, same seq so it is never
// counted twice, one to one and a half seconds later (spread, so refused learners do not come back
// together), a few times; any other refusal (not enrolled, invalid) would be refused again. A heartbeat
// whose every send was refused `overloaded` (before the server reads it) or never left (`not_connected`) is
// reported as not taken, so its time can ride on the next one. `store_unavailable` may be a call that ran
// and lost its reply, and `closed` a frame the server got before the link dropped: a heartbeat that met
// either counts as possibly taken, and its time is never sent twice.
import type { Heartbeat } from './activityGate'

export const RETRY_AFTER_MS = 1_000
export const MAX_ATTEMPTS = 5
const BUSY = new Set(['overloaded', 'store_unavailable'])
const LINK_DOWN = new Set(['not_connected', 'closed'])
const NOT_TAKEN = new Set(['overloaded', 'not_connected'])

export interface HeartbeatRoutes {
  /** The `heartbeat` op over the live link; resolves to the credited seconds, rejects with `{ code }`. */
  live(beat: Heartbeat): Promise<number>
  /** The REST heartbeat; resolves to the credited seconds, rejects with `{ code }`. */
  rest(beat: Heartbeat): Promise<number>
  sleep(ms: number): Promise<void>
  random(): number
}

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : 'error'
}

/** One send: over the live link, over REST when it is down. Every failure's code goes into `failures`. */
async function once(routes: HeartbeatRoutes, beat: Heartbeat, failures: string[]): Promise<number> {
  try {
    return await routes.live(beat)
  } catch (error) {
    failures.push(codeOf(error))
    if (!LINK_DOWN.has(codeOf(error))) throw error
  }
  try {
    return await routes.rest(beat)
  } catch (error) {
    failures.push(codeOf(error))
    throw error
  }
}

/** The seconds the server credited for `beat` (0 when it was refused for good or may have been taken
 * unanswered), or null when the server surely took none of it (NOT_TAKEN failures only). */
export async function deliverHeartbeat(routes: HeartbeatRoutes, beat: Heartbeat): Promise<number | null> {
  const failures: string[] = []
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await once(routes, beat, failures)
    } catch (error) {
      if (!BUSY.has(codeOf(error))) return 0
      if (attempt >= MAX_ATTEMPTS) return failures.every((code) => NOT_TAKEN.has(code)) ? null : 0
      await routes.sleep(RETRY_AFTER_MS * (1 + 0.5 * routes.random()))
    }
  }
}
