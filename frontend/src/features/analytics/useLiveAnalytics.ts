// The live snapshot: loaded over REST, then kept current by `admin:analytics` pushes; a failed recovery
// (or a refused subscription) falls back to a REST reload.
import { useEffect, useReducer, useState } from 'react'
import { useChannel } from '../../lib/live'
import { useResource } from '../../lib/useResource'
import { ANALYTICS_CHANNEL, getLive } from './api'
import { applySnapshot, emptyLiveState, isLiveAnalytics, type LiveState } from './liveState'
import type { LiveAnalytics } from './types'

export function useLiveAnalytics() {
  const resource = useResource((signal) => getLive(signal), [])
  const [state, dispatch] = useReducer((current: LiveState, snapshot: LiveAnalytics) => applySnapshot(current, snapshot), emptyLiveState)
  const [refused, setRefused] = useState<string | null>(null)

  useEffect(() => {
    if (resource.data) dispatch(resource.data)
  }, [resource.data])

  useChannel(ANALYTICS_CHANNEL, {
    onPublication(publication) {
      if (publication.event === 'analytics' && isLiveAnalytics(publication.data)) {
        setRefused(null)
        dispatch(publication.data)
      }
    },
    onRecoveryFailed: resource.reload,
    onRefused(_code, message) {
      setRefused(message)
    },
  })

  return { state, error: resource.error, loading: resource.loading, reload: resource.reload, refused }
}
