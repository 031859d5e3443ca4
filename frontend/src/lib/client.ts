// The app's single ApiClient and LiveClient instances.
import { ApiClient, browserSessionHint, memoryTokenStore, secondsUntilExpiry, takeLegacyRefreshToken, webLock } from './api'
import { LiveClient } from './ws'

const listeners = new Set<() => void>()

/** Subscribe to "the session ended" (refresh refused, or the hub closed with 4003). */
export function onSessionEnded(listener: () => void): () => void {
  listeners.add(listener)
  return () => listeners.delete(listener)
}

function sessionEnded(): void {
  for (const listener of listeners) listener()
}

export const api = new ApiClient({
  tokens: memoryTokenStore(),
  hint: browserSessionHint(),
  lock: webLock('learnflow.refresh'),
  takeLegacyRefreshToken: () => takeLegacyRefreshToken(),
  onSessionEnded: sessionEnded,
})

function wsUrl(): string {
  const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws'
  return `${scheme}://${window.location.host}/ws`
}

export const live = new LiveClient({
  url: wsUrl(),
  async getToken(fresh) {
    const token = api.accessToken()
    if (!token) return null
    const remaining = secondsUntilExpiry(token)
    if (fresh || (remaining !== null && remaining < 30)) {
      return (await api.refresh()) ?? api.accessToken()
    }
    return token
  },
  onSessionEnded: sessionEnded,
})
