import { describe, expect, it } from 'vitest'
import { ActivityGate, type Heartbeat } from './activityGate'
import { LessonHeartbeats } from './lessonHeartbeats'

const T0 = 1_800_000_000_000

/** A lesson whose deliveries answer from `outcomes` in order (a number: credited; null: never taken). */
function lesson(outcomes: (number | null)[]) {
  const gate = new ActivityGate(T0, true)
  gate.interact(T0)
  const sent: Heartbeat[] = []
  const credited: number[] = []
  const heartbeats = new LessonHeartbeats(
    gate,
    (beat) => {
      sent.push(beat)
      const outcome = outcomes.shift()
      if (outcome === undefined) throw new Error('unexpected send')
      return Promise.resolve(outcome)
    },
    (seconds) => credited.push(seconds),
  )
  return { gate, heartbeats, sent, credited }
}

describe('LessonHeartbeats', () => {
  it('reports what the server credited', async () => {
    const { gate, heartbeats, credited } = lesson([15])
    await heartbeats.send(gate.tick(T0 + 15_000))
    expect(credited).toEqual([15])
  })

  it('puts the time of a heartbeat never taken into the next one', async () => {
    const { gate, heartbeats, sent, credited } = lesson([null, 30])
    await heartbeats.send(gate.tick(T0 + 15_000))
    gate.interact(T0 + 20_000)
    await heartbeats.send(gate.tick(T0 + 30_000))
    expect(sent.map((beat) => beat.seconds_spent)).toEqual([15, 30])
    expect(credited).toEqual([30])
  })

  it('gives nothing back once the lesson is left, from its last heartbeat or one still in flight', async () => {
    let answer: (value: number | null) => void = () => undefined
    const gate = new ActivityGate(T0, true)
    gate.interact(T0)
    const outcomes: Promise<number | null>[] = [new Promise((resolve) => (answer = resolve)), Promise.resolve(null)]
    const heartbeats = new LessonHeartbeats(gate, () => outcomes.shift()!, () => undefined)
    const inFlight = heartbeats.send(gate.tick(T0 + 15_000))
    gate.interact(T0 + 20_000)
    await heartbeats.leave(T0 + 25_000) // its last heartbeat (10 s) is never taken
    answer(null) // and neither is the one that was still in flight (15 s)
    await inFlight
    // The gate goes on counting for the next lesson: none of the 25 s comes back into it.
    gate.interact(T0 + 30_000)
    expect(gate.tick(T0 + 40_000)?.seconds_spent).toBe(15)
  })
})
