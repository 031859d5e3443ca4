// CSV exports: fetched through the api client (the token goes in the Authorization header, never in a URL),
// then handed to the browser as a blob download.
import type { Query } from '../../lib/api'
import { api } from '../../lib/client'
import { attachmentName, mergeCsvPages } from './paging'

/** Rows per CSV request (the server's maximum) and how many requests one export may make. */
const CSV_PAGE = 1000
const MAX_PAGES = 20

export interface CsvExport {
  blob: Blob
  filename: string
  rows: number
  total: number
}

export async function fetchCsv(path: string, query: Query, fallbackName: string): Promise<CsvExport> {
  const texts: string[] = []
  let filename = fallbackName
  let total = 0
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const response = await api.request<Response>('GET', path, {
      query: { ...query, format: 'csv', skip: page * CSV_PAGE, limit: CSV_PAGE },
      raw: true,
    })
    if (page === 0) {
      filename = attachmentName(response.headers.get('Content-Disposition'), fallbackName)
      total = Number(response.headers.get('X-Total-Count') ?? 0) || 0
    }
    texts.push(await response.text())
    if ((page + 1) * CSV_PAGE >= total) break
  }
  const rows = Math.min(total, texts.length * CSV_PAGE)
  return { blob: new Blob([mergeCsvPages(texts)], { type: 'text/csv;charset=utf-8' }), filename, rows, total }
}

/** Save a blob under a file name with a temporary object URL and a download link. */
export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob)
  const link = document.createElement('a')
  link.href = url
  link.download = filename
  link.rel = 'noopener'
  link.style.display = 'none'
  document.body.appendChild(link)
  link.click()
  link.remove()
  // Revoking at once can cancel the download in some browsers.
  window.setTimeout(() => URL.revokeObjectURL(url), 60_000)
}
