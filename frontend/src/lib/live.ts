// React hooks over the shared LiveClient.
import { useEffect, useRef, useState } from 'react'
import { live } from './client'
import type { LiveStatus, PresenceDiff, Publication } from './ws'

export function useLiveStatus(): LiveStatus {
  const [status, setStatus] = useState<LiveStatus>(live.status)
  useEffect(() => live.onStatus(setStatus), [])
  return status
}

export interface ChannelHandlers {
  onPublication?(publication: Publication): void
  /** Reload the view over REST: missed publications could not be recovered. */
  onRecoveryFailed?(): void
  onPresence?(diff: PresenceDiff): void
  onRefused?(code: string, message: string): void
}

/** Subscribe to a channel while mounted (null: none). Handlers may change between renders. */
export function useChannel(channel: string | null, handlers: ChannelHandlers): void {
  const latest = useRef(handlers)
  latest.current = handlers
  useEffect(() => {
    if (!channel) return
    return live.subscribe(channel, {
      onPublication: (publication) => latest.current.onPublication?.(publication),
      onRecoveryFailed: () => latest.current.onRecoveryFailed?.(),
      onPresence: (diff) => latest.current.onPresence?.(diff),
      onRefused: (code, message) => latest.current.onRefused?.(code, message),
    })
  }, [channel])
}
