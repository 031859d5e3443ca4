import { Link } from 'react-router'
import type { ChatSummary } from './types'

interface Props {
  chats: ChatSummary[]
  me: number
  activePartner: number | null
}

export function ConversationList({ chats, me, activePartner }: Props) {
  if (chats.length === 0) {
    return <p className="py-6 text-center text-sm text-slate-500 dark:text-slate-400">No conversations yet.</p>
  }
  return (
    <ul className="divide-y divide-slate-200 dark:divide-slate-800">
      {chats.map((chat) => {
        const active = chat.partner.id === activePartner
        return (
          <li key={chat.partner.id} data-testid="chat-item" data-partner-id={chat.partner.id}>
            <Link
              to={`/messages/${chat.partner.id}`}
              state={{ partner: chat.partner }}
              aria-current={active ? 'page' : undefined}
              className={`flex items-center gap-3 px-3 py-3 ${
                active ? 'bg-indigo-50 dark:bg-indigo-950' : 'hover:bg-slate-50 dark:hover:bg-slate-800/60'
              }`}
            >
              <span className="min-w-0 flex-1">
                <span className="flex items-baseline justify-between gap-2">
                  <span className={`truncate ${chat.unread_count > 0 ? 'font-semibold' : 'font-medium'}`}>{chat.partner.name}</span>
                  <time className="shrink-0 text-xs text-slate-500" dateTime={chat.last_message_at}>
                    {new Date(chat.last_message_at).toLocaleDateString()}
                  </time>
                </span>
                <span className="block truncate text-sm text-slate-600 dark:text-slate-400">
                  {chat.latest_message.sender_id === me ? 'You: ' : ''}
                  {chat.last_message}
                </span>
              </span>
              {chat.unread_count > 0 && (
                <span
                  data-testid="chat-unread"
                  className="rounded-full bg-indigo-600 px-2 py-0.5 text-xs font-semibold text-white"
                  aria-label={`${chat.unread_count} unread`}
                >
                  {chat.unread_count}
                </span>
              )}
            </Link>
          </li>
        )
      })}
    </ul>
  )
}
