import { describe, expect, it } from 'vitest'
import type { Heartbeat } from './activityGate'
import { deliverHeartbeat, MAX_ATTEMPTS, RETRY_AFTER_MS, type HeartbeatRoutes } from './heartbeatDelivery'

const BEAT: Heartbeat = { seconds_spent: 15, seq: 1_800_000_000_123 }

type Outcome = number | string // credited seconds, or the code it is refused with

function routes(live: Outcome[], rest: Outcome[] = []) {
  const sent: { route: string; beat: Heartbeat }[] = []
  const slept: number[] = []
  const answer = (route: string, outcomes: Outcome[]) => (beat: Heartbeat) => {
    sent.push({ route, beat })
    const outcome = outcomes.shift()
    if (outcome === undefined) throw new Error(`unexpected ${route} call`)
    return typeof outcome === 'number' ? Promise.resolve(outcome) : Promise.reject(Object.assign(new Error(outcome), { code: outcome }))
  }
  const fake: HeartbeatRoutes = {
    live: answer('live', live),
    rest: answer('rest', rest),
    sleep: (ms) => {
      slept.push(ms)
      return Promise.resolve()
    },
    random: () => 0.5,
  }
  return { fake, sent, slept }
}

describe('deliverHeartbeat', () => {
  it('returns what the live link credited, in one send', async () => {
    const { fake, sent, slept } = routes([15])
    expect(await deliverHeartbeat(fake, BEAT)).toBe(15)
    expect(sent).toHaveLength(1)
    expect(slept).toEqual([])
  })

  it('sends an overloaded heartbeat again, same seq, after a second or more', async () => {
    const { fake, sent, slept } = routes(['overloaded', 'overloaded', 12])
    expect(await deliverHeartbeat(fake, BEAT)).toBe(12)
    expect(sent.map((s) => s.beat)).toEqual([BEAT, BEAT, BEAT])
    expect(slept).toEqual([RETRY_AFTER_MS * 1.25, RETRY_AFTER_MS * 1.25])
    expect(Math.min(...slept)).toBeGreaterThanOrEqual(RETRY_AFTER_MS)
  })

  it('falls back to REST while the link is down, and retries REST refusals for a busy server too', async () => {
    const { fake, sent } = routes(['not_connected', 'closed'], ['store_unavailable', 9])
    expect(await deliverHeartbeat(fake, BEAT)).toBe(9)
    expect(sent.map((s) => s.route)).toEqual(['live', 'rest', 'live', 'rest'])
  })

  it('gives up after a bounded number of attempts, telling the caller an overloaded server took none of it', async () => {
    const { fake, sent } = routes(Array(MAX_ATTEMPTS).fill('overloaded'))
    expect(await deliverHeartbeat(fake, BEAT)).toBeNull()
    expect(sent).toHaveLength(MAX_ATTEMPTS)
  })

  it('counts a heartbeat that met store_unavailable or a dropped link as possibly taken, and a refusal for good as 0', async () => {
    // store_unavailable may be a call that ran and lost its reply: its time must not be sent again.
    const busy = routes(['not_connected', 'not_connected', 'overloaded', 'overloaded', 'not_connected'], ['store_unavailable', 'store_unavailable', 'store_unavailable'])
    expect(await deliverHeartbeat(busy.fake, BEAT)).toBe(0)
    expect(busy.sent).toHaveLength(MAX_ATTEMPTS + 3)
    const once = routes(['store_unavailable', 'overloaded', 'overloaded', 'overloaded', 'overloaded'])
    expect(await deliverHeartbeat(once.fake, BEAT)).toBe(0)
    // A frame sent before the link dropped (`closed`) may have been taken too; one never sent was not.
    const dropped = routes(['closed', 'overloaded', 'overloaded', 'overloaded', 'overloaded'], ['overloaded'])
    expect(await deliverHeartbeat(dropped.fake, BEAT)).toBe(0)
    const unsent = routes(['not_connected', 'overloaded', 'overloaded', 'overloaded', 'overloaded'], ['overloaded'])
    expect(await deliverHeartbeat(unsent.fake, BEAT)).toBeNull()
    const refused = routes(['overloaded', 'validation_error'])
    expect(await deliverHeartbeat(refused.fake, BEAT)).toBe(0)
  })

  it('does not resend what would be refused again', async () => {
    const { fake, sent, slept } = routes(['not_enrolled'])
    expect(await deliverHeartbeat(fake, BEAT)).toBe(0)
    expect(sent).toHaveLength(1)
    expect(slept).toEqual([])
  })
})
