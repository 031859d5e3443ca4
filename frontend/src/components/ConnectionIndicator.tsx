import { useLiveStatus } from '../lib/live'
import { useSession } from '../lib/session'

const labels = {
  idle: 'Live updates off',
  connecting: 'Connecting…',
  open: 'Live',
  reconnecting: 'Offline — reconnecting…',
  closed: 'Live updates off',
} as const

/** Shows signed-in users whether live updates are flowing; loud when the link is down. */
export function ConnectionIndicator() {
  const { user } = useSession()
  const status = useLiveStatus()
  if (!user) return null
  const down = status === 'reconnecting' || status === 'closed'
  return (
    <span
      role="status"
      aria-live="polite"
      data-testid="live-status"
      data-status={status}
      className={`inline-flex items-center gap-1.5 rounded-full px-2 py-0.5 text-xs font-medium ${
        down
          ? 'bg-amber-100 text-amber-900 dark:bg-amber-900 dark:text-amber-100'
          : 'bg-emerald-100 text-emerald-900 dark:bg-emerald-950 dark:text-emerald-200'
      }`}
    >
      <span aria-hidden className={`h-2 w-2 rounded-full ${down ? 'bg-amber-500' : status === 'open' ? 'bg-emerald-500' : 'bg-slate-400'}`} />
      {labels[status]}
    </span>
  )
}
