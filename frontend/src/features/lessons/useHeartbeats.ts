// Sends the lesson heartbeats: every 15 s while the tab is visible and the learner is active, over the
// live link (REST when it is down; heartbeatDelivery.ts), and once more when the tab is hidden or the lesson
// is left. The time of a heartbeat the server refused as overloaded on every send goes into the lesson's
// next heartbeat (lessonHeartbeats.ts).
import { useEffect, useRef } from 'react'
import { live } from '../../lib/client'
import { ActivityGate, HEARTBEAT_INTERVAL_MS, type Heartbeat } from './activityGate'
import { postHeartbeat } from './api'
import { deliverHeartbeat } from './heartbeatDelivery'
import { LessonHeartbeats } from './lessonHeartbeats'

const ACTIVITY_EVENTS = ['pointerdown', 'pointermove', 'keydown', 'scroll', 'wheel', 'touchstart'] as const

export interface HeartbeatHandle {
  /** Call while a video plays (timeupdate): watching counts as activity. */
  videoPlaying(): void
}

function send(courseId: number, lessonId: string, beat: Heartbeat): Promise<number | null> {
  return deliverHeartbeat(
    {
      live: async (one) => {
        const reply = await live.request({ op: 'heartbeat', course_id: courseId, lesson_id: lessonId, ...one })
        return typeof reply.credited_seconds === 'number' ? reply.credited_seconds : 0
      },
      rest: async (one) => (await postHeartbeat(courseId, { lesson_id: lessonId, ...one, client_ts: Date.now() / 1000 })).credited_seconds,
      sleep: (ms) => new Promise((resolve) => window.setTimeout(resolve, ms)),
      random: Math.random,
    },
    beat,
  )
}

/** `enabled` only for an enrolled learner on a loaded lesson; `onCredited` gets the seconds the server credited. */
export function useHeartbeats(courseId: number, lessonId: string | null, enabled: boolean, onCredited: (lessonId: string, seconds: number) => void): HeartbeatHandle {
  const gateRef = useRef<ActivityGate | null>(null)
  const credited = useRef(onCredited)
  credited.current = onCredited

  if (gateRef.current === null) gateRef.current = new ActivityGate(Date.now(), typeof document === 'undefined' || document.visibilityState === 'visible')

  useEffect(() => {
    if (!enabled || lessonId === null) return
    const gate = gateRef.current!
    const lesson = new LessonHeartbeats(
      gate,
      (beat) => send(courseId, lessonId, beat),
      (seconds) => credited.current(lessonId, seconds),
    )
    const dispatch = (beat: Heartbeat | null) => void lesson.send(beat)
    // Opening the lesson is itself an interaction.
    gate.interact(Date.now())
    const onActivity = () => gate.interact(Date.now())
    const onVisibility = () => {
      const visible = document.visibilityState === 'visible'
      gate.setVisible(visible, Date.now())
      if (!visible) dispatch(gate.flush(Date.now()))
    }
    for (const name of ACTIVITY_EVENTS) window.addEventListener(name, onActivity, { passive: true, capture: true })
    document.addEventListener('visibilitychange', onVisibility)
    const timer = window.setInterval(() => dispatch(gate.tick(Date.now())), HEARTBEAT_INTERVAL_MS)
    // Clicks inside an embedded (YouTube/Vimeo) player never reach this document; focus on it does.
    const embedWatch = window.setInterval(() => {
      if (document.activeElement instanceof HTMLIFrameElement) gate.interact(Date.now())
    }, 5_000)
    return () => {
      window.clearInterval(timer)
      window.clearInterval(embedWatch)
      for (const name of ACTIVITY_EVENTS) window.removeEventListener(name, onActivity, { capture: true })
      document.removeEventListener('visibilitychange', onVisibility)
      // Leaving this lesson (another lesson or another page): report what this lesson earned.
      void lesson.leave(Date.now())
    }
  }, [courseId, lessonId, enabled])

  return {
    videoPlaying: () => gateRef.current?.interact(Date.now()),
  }
}
