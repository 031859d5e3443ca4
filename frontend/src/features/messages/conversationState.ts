// One open conversation: messages oldest first (as each history page lists them), merged from history
// pages, my sends and live `message.sent` / `message.read` events. Pure, so it is tested without a DOM.
import type { Page } from '../../lib/api'
import type { Message, MessageReadEvent } from './types'

export interface Conversation {
  partnerId: number
  /** Ascending by id (oldest at the top of the view). */
  messages: Message[]
  /** Older messages exist on the server beyond the first one here. */
  hasOlder: boolean
}

function merge(current: Message[], incoming: Message[]): Message[] {
  const byId = new Map(current.map((message) => [message.id, message]))
  for (const message of incoming) {
    const known = byId.get(message.id)
    // A copy without a read mark (an older page, a late event) never erases one we already know.
    byId.set(message.id, known && known.read_at && !message.read_at ? { ...message, read_at: known.read_at } : message)
  }
  return [...byId.values()].sort((a, b) => a.id - b.id)
}

/** The first page (GET /api/chats/{id}: the newest messages; `total` is the conversation's size). */
export function fromPage(partnerId: number, page: Page<Message>): Conversation {
  const messages = merge([], page.items)
  return { partnerId, messages, hasOlder: messages.length < page.total }
}

/** An older page (fetched with `before` = the oldest id shown). */
export function withOlder(conversation: Conversation, page: Page<Message>): Conversation {
  const messages = merge(conversation.messages, page.items)
  return { ...conversation, messages, hasOlder: page.items.length > 0 && messages.length < page.total }
}

export function belongsTo(message: Pick<Message, 'sender_id' | 'recipient_id'>, me: number, partnerId: number): boolean {
  return (
    (message.sender_id === me && message.recipient_id === partnerId) ||
    (message.sender_id === partnerId && message.recipient_id === me)
  )
}

/** A message I sent (the POST's answer) or one that arrived live; others' conversations are ignored. */
export function withMessage(conversation: Conversation, message: Message, me: number): Conversation {
  if (!belongsTo(message, me, conversation.partnerId)) return conversation
  return { ...conversation, messages: merge(conversation.messages, [message]) }
}

/** The partner read my messages up to `up_to_id`: they get their read mark ("Seen"). */
export function withReadReceipt(conversation: Conversation, event: MessageReadEvent, me: number): Conversation {
  if (event.reader_id !== conversation.partnerId || event.partner_id !== me) return conversation
  return markRead(conversation, (m) => m.sender_id === me && m.id <= event.up_to_id, event.read_at)
}

/** I read the partner's messages up to `upTo` (after PUT …/read). */
export function withMyRead(conversation: Conversation, upTo: number, readAt: string): Conversation {
  const partnerId = conversation.partnerId
  return markRead(conversation, (m) => m.sender_id === partnerId && m.id <= upTo, readAt)
}

function markRead(conversation: Conversation, select: (message: Message) => boolean, readAt: string): Conversation {
  let changed = false
  const messages = conversation.messages.map((message) => {
    if (message.read_at || !select(message)) return message
    changed = true
    return { ...message, read_at: readAt }
  })
  return changed ? { ...conversation, messages } : conversation
}

/** The newest of the partner's messages I have not read, or null: what PUT …/read?up_to= should name. */
export function unreadUpTo(conversation: Conversation): number | null {
  let newest: number | null = null
  for (const message of conversation.messages) {
    if (message.sender_id === conversation.partnerId && !message.read_at) newest = message.id
  }
  return newest
}

/** The newest of my messages the partner has read: "Seen" goes under it. */
export function lastSeenId(conversation: Conversation, me: number): number | null {
  let seen: number | null = null
  for (const message of conversation.messages) {
    if (message.sender_id === me && message.read_at) seen = message.id
  }
  return seen
}

/** Mark as read only what the user can actually see: the conversation is open and the tab visible. */
export function shouldMarkRead(conversation: Conversation | undefined, visible: boolean, pending: number | null): number | null {
  if (!conversation || !visible) return null
  const upTo = unreadUpTo(conversation)
  if (upTo === null || (pending !== null && pending >= upTo)) return null
  return upTo
}

/** Parse `message.read` data defensively. */
export function asReadEvent(data: unknown): MessageReadEvent | null {
  if (typeof data !== 'object' || data === null) return null
  const event = data as Partial<MessageReadEvent>
  if (typeof event.reader_id !== 'number' || typeof event.partner_id !== 'number' || typeof event.up_to_id !== 'number') {
    return null
  }
  return { ...(event as MessageReadEvent), read_at: typeof event.read_at === 'string' ? event.read_at : new Date().toISOString() }
}
