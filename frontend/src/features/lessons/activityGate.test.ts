import { describe, expect, it } from 'vitest'
import { ActivityGate, HEARTBEAT_INTERVAL_MS } from './activityGate'

const T0 = 1_800_000_000_000

describe('ActivityGate', () => {
  it('counts time while visible and recently active', () => {
    const gate = new ActivityGate(T0, true)
    gate.interact(T0)
    const beat = gate.tick(T0 + HEARTBEAT_INTERVAL_MS)
    expect(beat?.seconds_spent).toBe(15)
  })

  it('sends nothing while hidden and does not count hidden time', () => {
    const gate = new ActivityGate(T0, true)
    gate.interact(T0)
    gate.setVisible(false, T0)
    expect(gate.tick(T0 + 15_000)).toBeNull()
    gate.setVisible(true, T0 + 40_000)
    gate.interact(T0 + 40_000)
    expect(gate.tick(T0 + 50_000)?.seconds_spent).toBe(10)
  })

  it('sends nothing without any interaction', () => {
    const gate = new ActivityGate(T0, true)
    expect(gate.tick(T0 + 15_000)).toBeNull()
  })

  it('stops counting 60 s after the last interaction', () => {
    const gate = new ActivityGate(T0, true)
    gate.interact(T0)
    expect(gate.tick(T0 + 45_000)?.seconds_spent).toBe(45)
    // Idle for more than a minute: no heartbeat, and at most the remaining 15 active seconds are kept.
    expect(gate.tick(T0 + 90_000)).toBeNull()
    expect(gate.pendingMs(T0 + 200_000)).toBe(15_000)
    expect(gate.flush(T0 + 200_000)?.seconds_spent).toBe(15)
  })

  it('counts again after a new interaction, without the idle gap', () => {
    const gate = new ActivityGate(T0, true)
    gate.interact(T0)
    gate.flush(T0 + 60_000)
    gate.interact(T0 + 300_000)
    expect(gate.tick(T0 + 315_000)?.seconds_spent).toBe(15)
  })

  it('flushes the accrued time when the tab is hidden', () => {
    const gate = new ActivityGate(T0, true)
    gate.interact(T0)
    gate.setVisible(false, T0 + 7_500)
    expect(gate.flush(T0 + 7_500)?.seconds_spent).toBe(7)
    expect(gate.flush(T0 + 30_000)).toBeNull()
  })

  it('keeps sub-second remainders for the next heartbeat', () => {
    const gate = new ActivityGate(T0, true)
    gate.interact(T0)
    expect(gate.tick(T0 + 1_500)?.seconds_spent).toBe(1)
    expect(gate.tick(T0 + 3_000)?.seconds_spent).toBe(2)
  })

  it('caps a heartbeat at 60 seconds', () => {
    const gate = new ActivityGate(T0, true)
    for (let t = 0; t <= 150_000; t += 30_000) gate.interact(T0 + t)
    const beat = gate.tick(T0 + 150_000)
    expect(beat?.seconds_spent).toBe(60)
    expect(gate.tick(T0 + 150_000)).toBeNull()
  })

  it('puts the time of a heartbeat given back into the next one, within the cap', () => {
    const gate = new ActivityGate(T0, true)
    gate.interact(T0)
    const refused = gate.tick(T0 + 15_000)!
    gate.giveBack(refused.seconds_spent)
    gate.interact(T0 + 20_000)
    const next = gate.tick(T0 + 30_000)!
    expect(next.seconds_spent).toBe(30)
    expect(next.seq).toBeGreaterThan(refused.seq)
    gate.giveBack(next.seconds_spent)
    gate.giveBack(45)
    gate.interact(T0 + 40_000)
    expect(gate.tick(T0 + 45_000)?.seconds_spent).toBe(60)
    expect(gate.tick(T0 + 45_000)).toBeNull()
  })

  it('never reports less than one second', () => {
    const gate = new ActivityGate(T0, true)
    gate.interact(T0)
    expect(gate.tick(T0 + 900)).toBeNull()
  })

  it('gives strictly increasing seqs, also across page loads', () => {
    const gate = new ActivityGate(T0, true)
    gate.interact(T0)
    const first = gate.tick(T0 + 15_000)!.seq
    const second = gate.tick(T0 + 30_000)!.seq
    expect(second).toBeGreaterThan(first)
    expect(gate.nextSeq(T0)).toBeGreaterThan(second) // even if the clock does not move
    const reloaded = new ActivityGate(T0 + 31_000, true)
    expect(reloaded.nextSeq(T0 + 31_000)).toBeGreaterThan(second)
  })
})
