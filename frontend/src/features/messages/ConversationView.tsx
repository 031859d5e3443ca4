// One conversation: history (paged back with `before`), live messages and read receipts, and sending.
import { useEffect, useLayoutEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react'
import { Button, ErrorMessage, Spinner } from '../../components/ui'
import { ApiError } from '../../lib/api'
import { useChannel } from '../../lib/live'
import { useResource } from '../../lib/useResource'
import { history, markRead, sendMessage } from './api'
import { asSentEvent } from './chatsState'
import {
  asReadEvent,
  fromPage,
  lastSeenId,
  shouldMarkRead,
  withMessage,
  withMyRead,
  withOlder,
  withReadReceipt,
  type Conversation,
} from './conversationState'
import type { ChatUser, Message } from './types'
import { useDocumentVisible } from './useDocumentVisible'

const MAX_CHARS = 2000

interface Props {
  partnerId: number
  partner: ChatUser | null
  me: number
  onRead(partnerId: number): void
  onSent(message: Message): void
}

export function ConversationView({ partnerId, partner, me, onRead, onSent }: Props) {
  const conversation = useResource<Conversation>(
    (signal) => history(partnerId, null, signal).then((page) => fromPage(partnerId, page)),
    [partnerId],
  )
  const { data, setData, reload } = conversation
  const visible = useDocumentVisible()
  const marking = useRef<number | null>(null)
  const [olderError, setOlderError] = useState<unknown>(null)
  const [loadingOlder, setLoadingOlder] = useState(false)

  useEffect(() => {
    marking.current = null
  }, [partnerId])

  useChannel(`user:${me}`, {
    onPublication(publication) {
      if (publication.event === 'message.sent') {
        const event = asSentEvent(publication.data)
        if (event) setData((current) => current && withMessage(current, event, me))
      } else if (publication.event === 'message.read') {
        const event = asReadEvent(publication.data)
        if (event) setData((current) => current && withReadReceipt(current, event, me))
      }
    },
    onRecoveryFailed: reload,
  })

  // Mark the partner's messages read while the conversation is open and the tab visible.
  const upTo = shouldMarkRead(data?.partnerId === partnerId ? data : undefined, visible, marking.current)
  useEffect(() => {
    if (upTo === null) return
    marking.current = upTo
    markRead(partnerId, upTo)
      .then(() => {
        setData((current) => current && withMyRead(current, upTo, new Date().toISOString()))
        onRead(partnerId)
      })
      .catch(() => {
        marking.current = null // try again on the next change
      })
  }, [upTo, partnerId, setData, onRead])

  async function loadOlder() {
    if (!data || data.messages.length === 0) return
    setLoadingOlder(true)
    setOlderError(null)
    try {
      const page = await history(partnerId, data.messages[0].id)
      setData((current) => current && withOlder(current, page))
    } catch (reason) {
      setOlderError(reason)
    } finally {
      setLoadingOlder(false)
    }
  }

  const title = partner?.name ?? 'Conversation'
  return (
    <section aria-label={`Conversation with ${title}`} className="flex h-full min-h-[60vh] flex-col">
      <header className="border-b border-slate-200 px-4 py-3 dark:border-slate-800">
        <h2 className="font-semibold">{title}</h2>
        {partner && <p className="text-xs capitalize text-slate-500">{partner.role}</p>}
      </header>
      {conversation.error && data === undefined ? (
        <div className="p-4">
          <ErrorMessage error={conversation.error} onRetry={reload} />
        </div>
      ) : data === undefined || data.partnerId !== partnerId ? (
        <Spinner />
      ) : (
        <MessageList
          conversation={data}
          me={me}
          loadingOlder={loadingOlder}
          olderError={olderError}
          onLoadOlder={() => void loadOlder()}
        />
      )}
      <Composer
        partnerId={partnerId}
        onSent={(message) => {
          setData((current) => current && withMessage(current, message, me))
          onSent(message)
        }}
      />
    </section>
  )
}

interface ListProps {
  conversation: Conversation
  me: number
  loadingOlder: boolean
  olderError: unknown
  onLoadOlder(): void
}

function MessageList({ conversation, me, loadingOlder, olderError, onLoadOlder }: ListProps) {
  const scroller = useRef<HTMLDivElement>(null)
  const previous = useRef<{ first: number | null; last: number | null; height: number }>({ first: null, last: null, height: 0 })
  const { messages } = conversation
  const seen = lastSeenId(conversation, me)

  // Keep the view at the bottom for new messages, and in place when older ones are added above.
  useLayoutEffect(() => {
    const element = scroller.current
    if (!element) return
    const first = messages[0]?.id ?? null
    const last = messages[messages.length - 1]?.id ?? null
    const before = previous.current
    if (before.first !== null && first !== null && first < before.first && last === before.last) {
      element.scrollTop += element.scrollHeight - before.height
    } else if (last !== before.last) {
      element.scrollTop = element.scrollHeight
    }
    previous.current = { first, last, height: element.scrollHeight }
  }, [messages])

  return (
    <div ref={scroller} className="flex-1 space-y-2 overflow-y-auto p-4" aria-live="polite" aria-relevant="additions" data-testid="message-list">
      {conversation.hasOlder && (
        <div className="text-center">
          <Button variant="ghost" onClick={onLoadOlder} disabled={loadingOlder}>
            {loadingOlder ? 'Loading…' : 'Load older messages'}
          </Button>
        </div>
      )}
      {olderError !== null && <ErrorMessage error={olderError} onRetry={onLoadOlder} />}
      {messages.length === 0 && <p className="py-6 text-center text-sm text-slate-500">No messages yet. Say hello!</p>}
      {messages.map((message) => {
        const mine = message.sender_id === me
        return (
          <div key={message.id} className={`flex flex-col ${mine ? 'items-end' : 'items-start'}`}>
            <div
              data-testid="message-item"
              data-message-id={message.id}
              data-mine={mine}
              className={`max-w-[85%] whitespace-pre-wrap break-words rounded-lg px-3 py-2 text-sm md:max-w-[70%] ${
                mine ? 'bg-indigo-600 text-white' : 'bg-slate-100 text-slate-900 dark:bg-slate-800 dark:text-slate-100'
              }`}
            >
              {message.content}
            </div>
            <time className="mt-0.5 text-[11px] text-slate-500" dateTime={message.created_at}>
              {new Date(message.created_at).toLocaleString([], { dateStyle: 'short', timeStyle: 'short' })}
            </time>
            {mine && message.id === seen && (
              <span data-testid="message-seen" className="text-[11px] font-medium text-slate-500 dark:text-slate-400">
                Seen
              </span>
            )}
          </div>
        )
      })}
    </div>
  )
}

function Composer({ partnerId, onSent }: { partnerId: number; onSent(message: Message): void }) {
  const [text, setText] = useState('')
  const [sending, setSending] = useState(false)
  const [error, setError] = useState<ApiError | null>(null)

  useEffect(() => {
    setText('')
    setError(null)
  }, [partnerId])

  async function send(event?: FormEvent) {
    event?.preventDefault()
    const content = text.trim()
    if (!content || sending) return
    setSending(true)
    setError(null)
    try {
      onSent(await sendMessage(partnerId, content))
      setText('')
    } catch (reason) {
      setError(reason instanceof ApiError ? reason : new ApiError(0, 'error', String(reason)))
    } finally {
      setSending(false)
    }
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    // Enter sends, Shift+Enter starts a new line.
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault()
      void send()
    }
  }

  const fieldError = error?.fieldMessage('content')
  return (
    <form onSubmit={send} className="border-t border-slate-200 p-3 dark:border-slate-800">
      <label htmlFor={`message-${partnerId}`} className="block text-sm font-medium">
        Message
      </label>
      <div className="mt-1 flex items-end gap-2">
        <textarea
          id={`message-${partnerId}`}
          data-testid="message-input"
          rows={2}
          maxLength={MAX_CHARS}
          value={text}
          aria-invalid={Boolean(error)}
          aria-describedby={`message-${partnerId}-help`}
          onChange={(event) => setText(event.target.value)}
          onKeyDown={onKeyDown}
          className="block w-full flex-1 resize-y rounded-md border border-slate-300 bg-white px-3 py-2 text-sm dark:border-slate-600 dark:bg-slate-900"
        />
        <Button type="submit" data-testid="message-send" disabled={sending || text.trim() === ''}>
          {sending ? 'Sending…' : 'Send'}
        </Button>
      </div>
      <p id={`message-${partnerId}-help`} className="mt-1 text-xs text-slate-500">
        {error ? (
          <span role="alert" className="text-rose-600 dark:text-rose-400">
            {fieldError ?? error.message}
          </span>
        ) : (
          `Enter to send, Shift+Enter for a new line. ${text.length}/${MAX_CHARS}`
        )}
      </p>
    </form>
  )
}
