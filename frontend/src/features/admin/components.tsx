// Building blocks of the admin tables: pagination, a keyboard-accessible confirm dialog, a debounced
// text filter, status badges and table cells.
import { useEffect, useId, useRef, useState, type ReactNode } from 'react'
import { Button, TextField } from '../../components/ui'
import { pageInfo } from './paging'

export function Pagination({
  total,
  skip,
  limit,
  shown,
  onSkip,
  onLimit,
  label,
}: {
  total: number
  skip: number
  limit: number
  shown: number
  onSkip(skip: number): void
  onLimit?(limit: number): void
  label: string
}) {
  const info = pageInfo(total, skip, limit, shown)
  const sizeId = useId()
  return (
    <nav aria-label={`${label} pages`} className="mt-4 flex flex-wrap items-center justify-between gap-3 text-sm">
      <p aria-live="polite" data-testid="pagination-summary">
        {total === 0 ? 'No rows' : `${info.from}–${info.to} of ${total}`}
        <span className="text-slate-500 dark:text-slate-400"> · page {info.page} of {info.pages}</span>
      </p>
      <div className="flex flex-wrap items-center gap-2">
        {onLimit && (
          <span className="flex items-center gap-2">
            <label htmlFor={sizeId}>Rows</label>
            <select
              id={sizeId}
              value={limit}
              onChange={(event) => onLimit(Number(event.target.value))}
              className="rounded-md border border-slate-300 bg-white px-2 py-1 dark:border-slate-600 dark:bg-slate-900"
            >
              {[10, 25, 50, 100].map((size) => (
                <option key={size} value={size}>
                  {size}
                </option>
              ))}
            </select>
          </span>
        )}
        <Button variant="secondary" onClick={() => onSkip(0)} disabled={!info.hasPrev} aria-label="First page">
          «
        </Button>
        <Button variant="secondary" onClick={() => onSkip(info.prevSkip)} disabled={!info.hasPrev}>
          Previous
        </Button>
        <Button variant="secondary" onClick={() => onSkip(info.nextSkip)} disabled={!info.hasNext}>
          Next
        </Button>
        <Button variant="secondary" onClick={() => onSkip(info.lastSkip)} disabled={!info.hasNext} aria-label="Last page">
          »
        </Button>
      </div>
    </nav>
  )
}

/**
 * A modal confirmation built on <dialog>: showModal() traps focus and makes the page inert, Escape
 * cancels, focus starts on Cancel (the safe choice) and returns to the opener on close.
 */
export function ConfirmDialog({
  open,
  title,
  children,
  confirmLabel,
  busy = false,
  onConfirm,
  onCancel,
}: {
  open: boolean
  title: string
  children: ReactNode
  confirmLabel: string
  busy?: boolean
  onConfirm(): void
  onCancel(): void
}) {
  const ref = useRef<HTMLDialogElement>(null)
  const opener = useRef<Element | null>(null)
  const titleId = useId()
  const bodyId = useId()

  useEffect(() => {
    const dialog = ref.current
    if (!dialog) return
    if (open && !dialog.open) {
      opener.current = document.activeElement
      // showModal() focuses the [autofocus] element: Cancel.
      dialog.showModal()
    } else if (!open && dialog.open) {
      dialog.close()
      if (opener.current instanceof HTMLElement) opener.current.focus()
    }
  }, [open])

  return (
    <dialog
      ref={ref}
      role="alertdialog"
      aria-labelledby={titleId}
      aria-describedby={bodyId}
      aria-modal="true"
      data-testid="confirm-dialog"
      onCancel={(event) => {
        event.preventDefault()
        if (!busy) onCancel()
      }}
      className="w-[min(28rem,calc(100vw-2rem))] rounded-lg border border-slate-200 bg-white p-0 text-slate-900 shadow-xl backdrop:bg-slate-900/50 dark:border-slate-700 dark:bg-slate-900 dark:text-slate-100"
    >
      <div className="p-5">
        <h2 id={titleId} className="text-lg font-semibold">
          {title}
        </h2>
        <div id={bodyId} className="mt-2 text-sm text-slate-600 dark:text-slate-300">
          {children}
        </div>
        <div className="mt-5 flex justify-end gap-2">
          <Button autoFocus variant="secondary" onClick={onCancel} disabled={busy}>
            Cancel
          </Button>
          <Button variant="danger" onClick={onConfirm} disabled={busy} data-testid="confirm-dialog-confirm">
            {busy ? 'Working…' : confirmLabel}
          </Button>
        </div>
      </div>
    </dialog>
  )
}

/** A text filter that reports its value once typing pauses (one request per pause, not per key). */
export function DebouncedTextField({
  label,
  value,
  onCommit,
  delayMs = 350,
  ...props
}: {
  label: string
  value: string
  onCommit(value: string): void
  delayMs?: number
  type?: string
  placeholder?: string
  min?: number
  max?: number
  list?: string
  'data-testid'?: string
}) {
  const [draft, setDraft] = useState(value)
  const latest = useRef(onCommit)
  latest.current = onCommit

  // An outside reset (e.g. "Clear filters") replaces what was typed.
  useEffect(() => setDraft(value), [value])

  useEffect(() => {
    if (draft === value) return
    const timer = window.setTimeout(() => latest.current(draft), delayMs)
    return () => window.clearTimeout(timer)
  }, [draft, value, delayMs])

  return (
    <TextField
      label={label}
      value={draft}
      onChange={(event) => setDraft(event.target.value)}
      onKeyDown={(event) => {
        if (event.key === 'Enter') latest.current(draft)
      }}
      {...props}
    />
  )
}

type Tone = 'green' | 'amber' | 'red' | 'slate' | 'indigo'

const tones: Record<Tone, string> = {
  green: 'bg-emerald-100 text-emerald-800 dark:bg-emerald-950 dark:text-emerald-200',
  amber: 'bg-amber-100 text-amber-800 dark:bg-amber-950 dark:text-amber-200',
  red: 'bg-rose-100 text-rose-800 dark:bg-rose-950 dark:text-rose-200',
  slate: 'bg-slate-100 text-slate-700 dark:bg-slate-800 dark:text-slate-200',
  indigo: 'bg-indigo-100 text-indigo-800 dark:bg-indigo-950 dark:text-indigo-200',
}

export function Badge({ tone, children }: { tone: Tone; children: ReactNode }) {
  return <span className={`inline-block rounded-full px-2 py-0.5 text-xs font-medium ${tones[tone]}`}>{children}</span>
}

/** A scrollable table with a caption for screen readers; `head` holds the column titles. */
export function Table({ caption, head, children }: { caption: string; head: ReactNode[]; children: ReactNode }) {
  return (
    <div className="overflow-x-auto rounded-lg border border-slate-200 dark:border-slate-800">
      <table className="min-w-full divide-y divide-slate-200 text-left text-sm dark:divide-slate-800">
        <caption className="sr-only">{caption}</caption>
        <thead className="bg-slate-50 text-xs uppercase tracking-wide text-slate-600 dark:bg-slate-800/60 dark:text-slate-300">
          <tr>
            {head.map((title, index) => (
              <th key={index} scope="col" className="whitespace-nowrap px-3 py-2 font-semibold">
                {title}
              </th>
            ))}
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100 bg-white dark:divide-slate-800 dark:bg-slate-900">{children}</tbody>
      </table>
    </div>
  )
}

export const cell = 'px-3 py-2 align-top'

/** A page-level notice for the outcome of an action (success or the server's error message). */
export function Notice({ notice, onDismiss }: { notice: { tone: 'ok' | 'error'; text: string } | null; onDismiss(): void }) {
  if (!notice) return null
  const style =
    notice.tone === 'ok'
      ? 'border-emerald-200 bg-emerald-50 text-emerald-800 dark:border-emerald-900 dark:bg-emerald-950 dark:text-emerald-200'
      : 'border-rose-200 bg-rose-50 text-rose-800 dark:border-rose-900 dark:bg-rose-950 dark:text-rose-200'
  return (
    <div role={notice.tone === 'error' ? 'alert' : 'status'} className={`mb-4 flex items-start justify-between gap-3 rounded-md border p-3 text-sm ${style}`} data-testid="admin-notice">
      <span>{notice.text}</span>
      <button type="button" className="underline" onClick={onDismiss}>
        Dismiss
      </button>
    </div>
  )
}
