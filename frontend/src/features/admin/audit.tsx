// The audit-log filters and row, shared by the audit page and the activity report.
import { useId } from 'react'
import { formatDate } from '../../components/ui'
import { cell } from './components'
import { FilterForm, FilterInput, FilterText } from './filters'
import { AUDIT_ACTIONS, AUDIT_RESOURCE_TYPES, type AuditEntry } from './types'
import type { ListState } from './useListState'

export const initialAuditFilters = { action: '', resource_type: '', search: '', date_from: '', date_to: '', user_id: '' }
export type AuditFilters = typeof initialAuditFilters

export function AuditFilterForm({ list, label }: { list: ListState<AuditFilters>; label: string }) {
  const actionsId = useId()
  const typesId = useId()
  return (
    <FilterForm wide label={label}>
      <FilterText list={list} name="search" label="Search" type="search" placeholder="action, resource, details, email" data-testid="audit-search" />
      <FilterText list={list} name="action" label="Action (exact)" datalist={actionsId} placeholder="e.g. course_created" />
      <datalist id={actionsId}>
        {AUDIT_ACTIONS.map((action) => (
          <option key={action} value={action} />
        ))}
      </datalist>
      <FilterText list={list} name="resource_type" label="Resource type (exact)" datalist={typesId} placeholder="e.g. course" />
      <datalist id={typesId}>
        {AUDIT_RESOURCE_TYPES.map((type) => (
          <option key={type} value={type} />
        ))}
      </datalist>
      <FilterText list={list} name="user_id" label="Actor user id" type="number" min={1} />
      <FilterInput list={list} name="date_from" label="From (UTC day)" type="date" />
      <FilterInput list={list} name="date_to" label="To (UTC day)" type="date" />
    </FilterForm>
  )
}

function details(entry: AuditEntry): string {
  const keys = Object.keys(entry.details_data ?? {})
  return keys.length === 0 ? '—' : JSON.stringify(entry.details_data)
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
        {entry.resource_type ? `${entry.resource_type}${entry.resource_key ? ` #${entry.resource_key}` : ''}` : '—'}
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
