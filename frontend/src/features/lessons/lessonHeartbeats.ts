// One lesson's heartbeats while it is open: each goes out through `deliver`; what the server credited is
// reported, and the time of one it never took goes back to the activity gate for the lesson's next
// heartbeat. The gate counts the page's activity and outlives the lesson, so once the lesson is left
// nothing more goes back into it: time must never move to another lesson's heartbeats.
import type { ActivityGate, Heartbeat } from './activityGate'

export type Deliver = (beat: Heartbeat) => Promise<number | null>

export class LessonHeartbeats {
  private studying = true

  constructor(
    private readonly gate: ActivityGate,
    private readonly deliver: Deliver,
    private readonly credited: (seconds: number) => void,
  ) {}

  /** Sends `beat` (nothing when null); resolves once its outcome is settled. */
  async send(beat: Heartbeat | null): Promise<void> {
    if (!beat) return
    const seconds = await this.deliver(beat)
    if (seconds === null) {
      if (this.studying) this.gate.giveBack(beat.seconds_spent)
    } else if (seconds > 0) {
      this.credited(seconds)
    }
  }

  /** Leaving the lesson: its last heartbeat goes out, and nothing of it or of any still in flight comes back. */
  leave(now: number): Promise<void> {
    const last = this.send(this.gate.flush(now))
    this.studying = false
    return last
  }
}
