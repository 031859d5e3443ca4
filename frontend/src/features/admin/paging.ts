// Pure helpers for paged, filtered tables (tested in paging.test.ts).
import type { Query } from '../../lib/api'

export interface PageInfo {
  /** 1-based page number. */
  page: number
  pages: number
  /** 1-based index of the first and last row shown; 0 when there are none. */
  from: number
  to: number
  hasPrev: boolean
  hasNext: boolean
  prevSkip: number
  nextSkip: number
  lastSkip: number
}

export function pageInfo(total: number, skip: number, limit: number, shown: number): PageInfo {
  const size = Math.max(1, limit)
  const pages = Math.max(1, Math.ceil(total / size))
  const page = Math.min(pages, Math.floor(Math.max(0, skip) / size) + 1)
  const from = shown > 0 ? skip + 1 : 0
  const to = shown > 0 ? skip + shown : 0
  return {
    page,
    pages,
    from,
    to,
    hasPrev: skip > 0,
    hasNext: skip + size < total,
    prevSkip: Math.max(0, skip - size),
    nextSkip: skip + size,
    lastSkip: (pages - 1) * size,
  }
}

/** The request query of a filter form: trimmed strings, empty ones left out. */
export function filterQuery(filters: Record<string, string>): Query {
  const query: Query = {}
  for (const [key, value] of Object.entries(filters)) {
    const trimmed = value.trim()
    if (trimmed !== '') query[key] = trimmed
  }
  return query
}

/** The file name of a Content-Disposition header, or the fallback. */
export function attachmentName(header: string | null, fallback: string): string {
  if (!header) return fallback
  const encoded = /filename\*\s*=\s*(?:UTF-8'')?([^;]+)/i.exec(header)
  if (encoded?.[1]) {
    try {
      return decodeURIComponent(encoded[1].trim().replace(/^"|"$/g, ''))
    } catch {
      // A malformed escape: try the plain filename below.
    }
  }
  const plain = /filename\s*=\s*("([^"]*)"|[^;]+)/i.exec(header)
  const name = (plain?.[2] ?? plain?.[1] ?? '').trim()
  // Never let a header choose a path.
  const safe = name.replace(/[/\\]/g, '_')
  return safe || fallback
}

/** Join CSV pages of one export: the first keeps its header row, later ones drop theirs (and any BOM). */
export function mergeCsvPages(pages: string[]): string {
  const parts: string[] = []
  pages.forEach((text, index) => {
    if (index === 0) {
      parts.push(text)
      return
    }
    const body = text.replace(/^\uFEFF/, '')
    const newline = body.indexOf('\n')
    const rows = newline === -1 ? '' : body.slice(newline + 1)
    if (rows === '') return
    const previous = parts[parts.length - 1]
    if (previous !== undefined && !previous.endsWith('\n')) parts.push('\r\n')
    parts.push(rows)
  })
  return parts.join('')
}
