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

export interface ChatSummary {
  partner: ChatUser
  last_message: { id: number; content: string; sender_id: number; created_at: string }
  unread_count: number
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
  updated: number
  up_to_id: number | null
}
