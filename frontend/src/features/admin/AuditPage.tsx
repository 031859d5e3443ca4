// Admins and instructors: the audit log (instructors see their courses' entries, without IPs).
import { ErrorMessage, PageHeader, Spinner } from '../../components/ui'
import { useSession } from '../../lib/session'
import { useResource } from '../../lib/useResource'
import { listAudit } from './api'
import { AuditCells, AuditFilterForm, auditHead, initialAuditFilters } from './audit'
import { Pagination, Table } from './components'
import { filterQuery } from './paging'
import { useListState } from './useListState'

export default function AuditPage() {
  const { user } = useSession()
  const list = useListState(initialAuditFilters, 50)
  const { filters, skip, limit } = list
  const entries = useResource((signal) => listAudit({ ...filterQuery(filters), skip, limit }, signal), [filters, skip, limit])
  const page = entries.data
  // The server leaves addresses out for instructors; show the column only when some can be there.
  const withIp = user?.role === 'admin' || Boolean(page?.items.some((entry) => entry.ip_address !== null))

  return (
    <div>
      <PageHeader title="Audit log">
        {user?.role === 'admin' ? 'Every recorded action on the platform.' : 'Recorded actions on your courses.'}
      </PageHeader>
      <AuditFilterForm list={list} label="Filter the audit log" />
      {entries.error && <ErrorMessage error={entries.error} onRetry={entries.reload} />}
      {!page && !entries.error && <Spinner />}
      {page && (
        <div aria-busy={entries.loading}>
          {page.items.length === 0 ? (
            <p className="py-8 text-center text-sm text-slate-500 dark:text-slate-400">No entry matches these filters.</p>
          ) : (
            <Table caption="Audit log" head={auditHead(withIp)}>
              {page.items.map((entry) => (
                <tr key={entry.id} data-testid="audit-row" data-audit-id={entry.id}>
                  <AuditCells entry={entry} withIp={withIp} />
                </tr>
              ))}
            </Table>
          )}
          <Pagination label="Audit log" total={page.total} skip={skip} limit={limit} shown={page.items.length} onSkip={list.setSkip} onLimit={list.setLimit} />
        </div>
      )}
    </div>
  )
}
