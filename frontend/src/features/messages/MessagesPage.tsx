// /messages and /messages/:partnerId — conversations with unread counts, a picker for new ones, and the
// open conversation. Live through `user:{me}`: `message.sent` and `message.read`.
import { useCallback, useState } from 'react'
import { Link, useLocation, useNavigate, useParams } from 'react-router'
import { Button, ErrorMessage, PageHeader, Spinner } from '../../components/ui'
import { useSession } from '../../lib/session'
import { markChatRead, totalUnread } from './chatsState'
import { ConversationList } from './ConversationList'
import { ConversationView } from './ConversationView'
import { PartnerPicker } from './PartnerPicker'
import { conversationRead } from './readSignal'
import type { ChatUser, Message } from './types'
import { useChats } from './useChats'
import { useDocumentVisible } from './useDocumentVisible'

export default function MessagesPage() {
  const { user } = useSession()
  if (!user) return <Spinner />
  return <Messages me={user.id} />
}

function Messages({ me }: { me: number }) {
  const params = useParams()
  const location = useLocation()
  const navigate = useNavigate()
  const partnerId = params.partnerId !== undefined && /^\d+$/.test(params.partnerId) ? Number(params.partnerId) : null
  const invalidPartner = params.partnerId !== undefined && partnerId === null
  const visible = useDocumentVisible()
  const [picking, setPicking] = useState(false)

  const { chats, applyEvent } = useChats(me, visible ? partnerId : null)
  const { setData, reload } = chats

  const onRead = useCallback(
    (id: number) => {
      setData((current) => current && markChatRead(current, id))
      conversationRead(id)
    },
    [setData],
  )
  const onSent = (message: Message) => applyEvent({ ...message, sender: null })

  const statePartner = (location.state as { partner?: ChatUser } | null)?.partner
  const partner: ChatUser | null =
    chats.data?.find((chat) => chat.partner.id === partnerId)?.partner ?? (statePartner?.id === partnerId ? statePartner : null)
  const unread = totalUnread(chats.data ?? [])

  const listPane = (
    <div className="flex flex-col">
      <div className="flex items-center justify-between gap-2 border-b border-slate-200 px-3 py-2 dark:border-slate-800">
        <h2 className="text-sm font-semibold">
          Conversations{unread > 0 && <span className="ml-1 text-indigo-600 dark:text-indigo-400">({unread} unread)</span>}
        </h2>
        <Button variant={picking ? 'secondary' : 'primary'} onClick={() => setPicking((open) => !open)} aria-expanded={picking}>
          {picking ? 'Close' : 'New message'}
        </Button>
      </div>
      {picking && (
        <div className="border-b border-slate-200 p-3 dark:border-slate-800">
          <PartnerPicker
            onPick={(picked) => {
              setPicking(false)
              navigate(`/messages/${picked.id}`, { state: { partner: picked } })
            }}
          />
        </div>
      )}
      {chats.error && chats.data === undefined ? (
        <div className="p-3">
          <ErrorMessage error={chats.error} onRetry={reload} />
        </div>
      ) : chats.data === undefined ? (
        <Spinner />
      ) : (
        <ConversationList chats={chats.data} me={me} activePartner={partnerId} />
      )}
    </div>
  )

  return (
    <section>
      <PageHeader title="Messages">Direct messages with your instructors, learners and admins.</PageHeader>
      <div className="grid overflow-hidden rounded-lg border border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900 md:grid-cols-[20rem_1fr]">
        {/* On small screens the list and the open conversation take turns. */}
        <div className={`${partnerId !== null ? 'hidden md:block' : ''} md:border-r md:border-slate-200 md:dark:border-slate-800`}>{listPane}</div>
        <div className={partnerId === null ? 'hidden md:block' : ''}>
          {partnerId !== null && (
            <Link to="/messages" className="block px-4 pt-3 text-sm text-indigo-700 hover:underline md:hidden dark:text-indigo-300">
              ← All conversations
            </Link>
          )}
          {invalidPartner ? (
            <div className="p-4">
              <ErrorMessage error="There is no such conversation." />
            </div>
          ) : partnerId === null ? (
            <p className="p-8 text-center text-sm text-slate-500 dark:text-slate-400">Pick a conversation, or start a new one.</p>
          ) : (
            <ConversationView key={partnerId} partnerId={partnerId} partner={partner} me={me} onRead={onRead} onSent={onSent} />
          )}
        </div>
      </div>
    </section>
  )
}
