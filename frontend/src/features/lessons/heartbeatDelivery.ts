// Delivers one heartbeat: over the live link, over REST while the link is down. A refusal because the
// server is busy right now (`overloaded`, `store_unavailable`) is sent again, same seq so it is never
// counted twice, one to one and a half seconds later (spread, so refused learners do not come back
// together), a few times; any other refusal (not enrolled, invalid) would be refused again. A heartbeat
// refused `overloaded` on every send is reported as not taken (that refusal comes before the server reads
// it), so its time can ride on the next one; `store_unavailable` may also mean a call that ran and lost its
// reply, so a heartbeat that met it counts as possibly taken: its time is never sent twice.
import type { Heartbeat } from './activityGate'

export const RETRY_AFTER_MS = 1_000
export const MAX_ATTEMPTS = 5
const BUSY = new Set(['overloaded', 'store_unavailable'])
const LINK_DOWN = new Set(['not_connected', 'closed'])

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

async function once(routes: HeartbeatRoutes, beat: Heartbeat): Promise<number> {
  try {
    return await routes.live(beat)
  } catch (error) {
    if (!LINK_DOWN.has(codeOf(error))) throw error
    return await routes.rest(beat)
  }
}

/** The seconds the server credited for `beat` (0 when it was refused for good or may have been taken
 * unanswered), or null when every send was refused `overloaded`: then it took none of the heartbeat. */
export async function deliverHeartbeat(routes: HeartbeatRoutes, beat: Heartbeat): Promise<number | null> {
  let untaken = true
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await once(routes, beat)
    } catch (error) {
      const code = codeOf(error)
      if (!BUSY.has(code)) return 0
      if (code !== 'overloaded') untaken = false
      if (attempt >= MAX_ATTEMPTS) return untaken ? null : 0
      await routes.sleep(RETRY_AFTER_MS * (1 + 0.5 * routes.random()))
    }
  }
}
