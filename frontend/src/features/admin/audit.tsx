// The audit-log filters and row, shared by the audit page and the activity report.
import { useId } from 'react'
import { TextField, formatDate } from '../../components/ui'
import { DebouncedTextField, cell } from './components'
import { AUDIT_ACTIONS, AUDIT_RESOURCE_TYPES, type AuditEntry } from './types'
import type { ListState } from './useListState'

export const initialAuditFilters = { action: '', resource_type: '', search: '', date_from: '', date_to: '', user_id: '' }
export type AuditFilters = typeof initialAuditFilters

export function AuditFilterForm({ list, label }: { list: ListState<AuditFilters>; label: string }) {
  const actionsId = useId()
  const typesId = useId()
  const { filters, setFilter } = list
  return (
    <form className="mb-4 grid gap-3 sm:grid-cols-2 lg:grid-cols-3" role="search" aria-label={label} onSubmit={(event) => event.preventDefault()}>
      <DebouncedTextField label="Search" type="search" value={filters.search} onCommit={(value) => setFilter('search', value)} placeholder="action, resource, details, email" data-testid="audit-search" />
      <DebouncedTextField label="Action (exact)" value={filters.action} onCommit={(value) => setFilter('action', value)} list={actionsId} placeholder="e.g. course_created" />
      <datalist id={actionsId}>
        {AUDIT_ACTIONS.map((action) => (
          <option key={action} value={action} />
        ))}
      </datalist>
      <DebouncedTextField label="Resource type (exact)" value={filters.resource_type} onCommit={(value) => setFilter('resource_type', value)} list={typesId} placeholder="e.g. course" />
      <datalist id={typesId}>
        {AUDIT_RESOURCE_TYPES.map((type) => (
          <option key={type} value={type} />
        ))}
      </datalist>
      <DebouncedTextField label="Actor user id" type="number" min={1} value={filters.user_id} onCommit={(value) => setFilter('user_id', value)} />
      <TextField label="From (UTC day)" type="date" value={filters.date_from} onChange={(event) => setFilter('date_from', event.target.value)} />
      <TextField label="To (UTC day)" type="date" value={filters.date_to} onChange={(event) => setFilter('date_to', event.target.value)} />
    </form>
  )
}

function details(entry: AuditEntry): string {
  const keys = Object.keys(entry.details ?? {})
  return keys.length === 0 ? '—' : JSON.stringify(entry.details)
}

/** Column titles; the IP column only when the server sends addresses (admins). */
export function auditHead(withIp: boolean): string[] {
  return ['When', 'Actor', 'Action', 'Resource', 'Details', ...(withIp ? ['IP / agent'] : [])]
}

export function AuditCells({ entry, withIp }: { entry: AuditEntry; withIp: boolean }) {
  return (
    <>
      <td className={`${cell} whitespace-nowrap`}>
        <time dateTime={entry.created_at}>{formatDate(entry.created_at)}</time>
      </td>
      <td className={cell}>
        {entry.user_id === null ? (
          <span className="text-slate-500 dark:text-slate-400">System</span>
        ) : (
          <>
            <div className="font-medium">{entry.user_name ?? `User #${entry.user_id}`}</div>
            {entry.user_email && <div className="break-all text-xs text-slate-500 dark:text-slate-400">{entry.user_email}</div>}
          </>
        )}
      </td>
      <td className={`${cell} font-mono text-xs`} data-testid="audit-action">
        {entry.action}
      </td>
      <td className={`${cell} whitespace-nowrap`}>
        {entry.resource_type ? `${entry.resource_type}${entry.resource_id ? ` #${entry.resource_id}` : ''}` : '—'}
      </td>
      <td className={`${cell} max-w-xs break-all font-mono text-xs`}>{details(entry)}</td>
      {withIp && (
        <td className={`${cell} text-xs`}>
          <div>{entry.ip_address ?? '—'}</div>
          {entry.user_agent && (
            <div className="max-w-[14rem] truncate text-slate-500 dark:text-slate-400" title={entry.user_agent}>
              {entry.user_agent}
            </div>
          )}
        </td>
      )}
    </>
  )
}
