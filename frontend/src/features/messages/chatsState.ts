// The conversation list with unread counts, kept current by live `message.sent` events. Pure.
import { asReadEvent } from './conversationState'
import { chatSummary, type ChatSummary, type MessageSentEvent } from './types'

export function sortChats(chats: ChatSummary[]): ChatSummary[] {
  return [...chats].sort((a, b) => b.latest_message.id - a.latest_message.id)
}

export interface SentResult {
  chats: ChatSummary[]
  /** The conversation is not in the list and the event does not describe the partner: reload the list. */
  unknownPartner: boolean
}

/**
 * A message was sent to or by me. `reading` is the partner whose conversation I am looking at right now
 * (its messages are marked read at once, so they do not count as unread). Events for messages the list
 * already knows (same or older id than its last message) change nothing, so a reload racing an event
 * never counts a message twice.
 */
export function applySent(chats: ChatSummary[], event: MessageSentEvent, me: number, reading: number | null): SentResult {
  const incoming = event.recipient_id === me && event.sender_id !== me
  const partnerId = event.sender_id === me ? event.recipient_id : event.sender_id
  const last = { id: event.id, content: event.content, sender_id: event.sender_id, created_at: event.created_at }
  const bump = incoming && partnerId !== reading ? 1 : 0
  const index = chats.findIndex((chat) => chat.partner.id === partnerId)
  if (index < 0) {
    if (!incoming || !event.sender) return { chats, unknownPartner: true }
    return { chats: sortChats([chatSummary(event.sender, last, bump), ...chats]), unknownPartner: false }
  }
  const chat = chats[index]
  if (event.id <= chat.latest_message.id) return { chats, unknownPartner: false }
  const updated = chatSummary(chat.partner, last, chat.unread_count + bump)
  return { chats: sortChats(chats.map((item, i) => (i === index ? updated : item))), unknownPartner: false }
}

export function markChatRead(chats: ChatSummary[], partnerId: number): ChatSummary[] {
  const index = chats.findIndex((chat) => chat.partner.id === partnerId)
  if (index < 0 || chats[index].unread_count === 0) return chats
  return chats.map((chat, i) => (i === index ? { ...chat, unread_count: 0 } : chat))
}

export function totalUnread(chats: ChatSummary[]): number {
  return chats.reduce((sum, chat) => sum + chat.unread_count, 0)
}

/** Parse `message.sent` data defensively. */
export function asSentEvent(data: unknown): MessageSentEvent | null {
  if (typeof data !== 'object' || data === null) return null
  const event = data as Partial<MessageSentEvent>
  if (typeof event.id !== 'number' || typeof event.sender_id !== 'number' || typeof event.recipient_id !== 'number') return null
  if (typeof event.content !== 'string' || typeof event.created_at !== 'string') return null
  return { ...(event as MessageSentEvent), read_at: event.read_at ?? null, sender: event.sender ?? null }
}

/** What a publication on my `user:{me}` channel means for the conversation list. */
export type ChatsUpdate = { kind: 'sent'; event: MessageSentEvent } | { kind: 'read'; partnerId: number }

export function chatsUpdate(publication: { event: string; data: unknown }, me: number): ChatsUpdate | null {
  if (publication.event === 'message.read') {
    // I read a conversation in another tab or on another device (reads by others concern the open conversation only).
    const read = asReadEvent(publication.data)
    return read && read.reader_id === me ? { kind: 'read', partnerId: read.partner_id } : null
  }
  if (publication.event !== 'message.sent') return null
  const event = asSentEvent(publication.data)
  return event ? { kind: 'sent', event } : null
}
