// One report: its paged rows over JSON and a CSV download of every row that matches the same filters.
import { useState, type ReactNode } from 'react'
import { Button, ErrorMessage, Spinner } from '../../components/ui'
import { ApiError } from '../../lib/api'
import { useResource } from '../../lib/useResource'
import { reportPage } from './api'
import { Pagination, Table } from './components'
import { fetchCsv, saveBlob } from './download'
import { filterQuery } from './paging'
import type { ListState } from './useListState'

export interface ReportTableProps<T, F extends Record<string, string>> {
  title: string
  path: string
  /** File name when the server names none. */
  fallbackName: string
  list: ListState<F>
  head: string[]
  rowKey(row: T): string | number
  row(row: T): ReactNode
  empty: string
}

export function ReportTable<T, F extends Record<string, string>>({ title, path, fallbackName, list, head, rowKey, row, empty }: ReportTableProps<T, F>) {
  const { filters, skip, limit } = list
  const rows = useResource((signal) => reportPage<T>(path, { ...filterQuery(filters), skip, limit }, signal), [path, filters, skip, limit])
  const [downloading, setDownloading] = useState(false)
  const [status, setStatus] = useState<{ tone: 'ok' | 'error'; text: string } | null>(null)

  async function download() {
    setDownloading(true)
    setStatus(null)
    try {
      const result = await fetchCsv(path, filterQuery(filters), fallbackName)
      saveBlob(result.blob, result.filename)
      const partial = result.rows < result.total ? ` (the first ${result.rows} of ${result.total}; narrow the filters for the rest)` : ''
      setStatus({ tone: 'ok', text: `Downloaded ${result.filename}: ${result.rows} row${result.rows === 1 ? '' : 's'}${partial}.` })
    } catch (error) {
      setStatus({ tone: 'error', text: error instanceof ApiError ? error.message : 'The download failed.' })
    } finally {
      setDownloading(false)
    }
  }

  const page = rows.data
  return (
    <section aria-label={title}>
      <div className="mb-3 flex flex-wrap items-center justify-between gap-3">
        <h2 className="text-lg font-semibold">{title}</h2>
        <Button onClick={() => void download()} disabled={downloading || page?.total === 0} data-testid="report-download" aria-describedby={status ? `${path}-download-status` : undefined}>
          {downloading ? 'Preparing CSV…' : 'Download CSV'}
        </Button>
      </div>
      {status && (
        <p
          id={`${path}-download-status`}
          role={status.tone === 'error' ? 'alert' : 'status'}
          className={`mb-3 text-sm ${status.tone === 'error' ? 'text-rose-700 dark:text-rose-300' : 'text-emerald-700 dark:text-emerald-300'}`}
          data-testid="report-download-status"
        >
          {status.text}
        </p>
      )}
      {rows.error && <ErrorMessage error={rows.error} onRetry={rows.reload} />}
      {!page && !rows.error && <Spinner />}
      {page && (
        <div aria-busy={rows.loading}>
          {page.items.length === 0 ? (
            <p className="py-8 text-center text-sm text-slate-500 dark:text-slate-400">{empty}</p>
          ) : (
            <Table caption={title} head={head}>
              {page.items.map((item) => (
                <tr key={rowKey(item)} data-testid="report-row">
                  {row(item)}
                </tr>
              ))}
            </Table>
          )}
          <Pagination label={title} total={page.total} skip={skip} limit={limit} shown={page.items.length} onSkip={list.setSkip} onLimit={list.setLimit} />
        </div>
      )}
    </section>
  )
}
