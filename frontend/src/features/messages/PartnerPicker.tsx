// Start a conversation: search the people I may message (GET /api/chat-partners).
import { useEffect, useState } from 'react'
import { Spinner, TextField } from '../../components/ui'
import { useResource } from '../../lib/useResource'
import { chatPartners } from './api'
import type { ChatUser } from './types'

export function PartnerPicker({ onPick }: { onPick(partner: ChatUser): void }) {
  const [search, setSearch] = useState('')
  const [query, setQuery] = useState('')
  useEffect(() => {
    const timer = setTimeout(() => setQuery(search), 250)
    return () => clearTimeout(timer)
  }, [search])
  const partners = useResource((signal) => chatPartners(query, signal), [query])

  return (
    <div className="space-y-2" data-testid="partner-picker">
      <TextField
        label="Find a person"
        type="search"
        placeholder="Name or email"
        value={search}
        autoFocus
        onChange={(event) => setSearch(event.target.value)}
      />
      {partners.error ? (
        <p role="alert" className="text-sm text-rose-600 dark:text-rose-400">
          {partners.error.message}
        </p>
      ) : partners.data === undefined ? (
        <Spinner />
      ) : partners.data.items.length === 0 ? (
        <p className="py-2 text-sm text-slate-500">
          Nobody found. You can message the instructors of your courses, the learners in your courses and admins.
        </p>
      ) : (
        <ul className="max-h-72 overflow-y-auto">
          {partners.data.items.map((partner) => (
            <li key={partner.id}>
              <button
                type="button"
                data-testid="partner-option"
                data-partner-id={partner.id}
                className="flex w-full items-center justify-between rounded-md px-2 py-2 text-left text-sm hover:bg-slate-100 dark:hover:bg-slate-800"
                onClick={() => onPick(partner)}
              >
                <span className="font-medium">{partner.name}</span>
                <span className="text-xs capitalize text-slate-500">{partner.role}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  )
}
