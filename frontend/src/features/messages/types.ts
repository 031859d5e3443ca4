// Direct-message shapes (app/messages/schemas.py) and their live events (app/messages/service.py).
import type { Role } from '../../lib/types'

export interface ChatUser {
  id: number
  name: string
  avatar: string | null
  role: Role
}

export interface Message {
  id: number
  sender_id: number
  recipient_id: number
  /** Plain text: always rendered as text. */
  content: string
  created_at: string
  read_at: string | null
}

/** A message as GET/POST /api/chats/{id} return it: the original API's names beside ours. */
export interface MessagePublic extends Message {
  receiver_id: number
  sender_name: string
  sender_avatar: string | null
  is_read: boolean
}

export interface LatestMessage {
  id: number
  content: string
  sender_id: number
  created_at: string
}

/** A conversation: the original API's flat fields (last_message is its text) with the objects beside them. */
export interface ChatSummary {
  partner_id: number
  partner_name: string
  partner_avatar: string | null
  partner_role: Role
  last_message: string
  last_message_at: string
  unread_count: number
  partner: ChatUser
  latest_message: LatestMessage
}

export function chatSummary(partner: ChatUser, latest: LatestMessage, unread: number): ChatSummary {
  return {
    partner_id: partner.id,
    partner_name: partner.name,
    partner_avatar: partner.avatar,
    partner_role: partner.role,
    last_message: latest.content,
    last_message_at: latest.created_at,
    unread_count: unread,
    partner,
    latest_message: latest,
  }
}

/** `message.sent` on `user:{id}` of both participants. */
export interface MessageSentEvent extends Message {
  sender: ChatUser | null
}

/** `message.read` on `user:{sender}`: `reader_id` read the sender's messages up to `up_to_id`. */
export interface MessageReadEvent {
  reader_id: number
  partner_id: number
  up_to_id: number
  count: number
  read_at: string
}

export interface ReadResult {
  message: string
  updated: number
  up_to_id: number | null
}
