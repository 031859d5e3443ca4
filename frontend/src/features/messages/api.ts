import { api } from '../../lib/client'
import type { ChatSummary, ChatUser, Message, ReadResult } from './types'

export const HISTORY_PAGE = 50

export const listChats = (signal?: AbortSignal) => api.page<ChatSummary>('/api/chats', { limit: 100 }, signal)

export const chatPartners = (search: string, signal?: AbortSignal) =>
  api.page<ChatUser>('/api/chat-partners', { search: search.trim() || undefined, limit: 20 }, signal)

/** The newest messages (oldest first within the page); `before` pages back through older messages. */
export const history = (partnerId: number, before: number | null, signal?: AbortSignal) =>
  api.page<Message>(`/api/chats/${partnerId}`, { before: before ?? undefined, limit: HISTORY_PAGE }, signal)

export const sendMessage = (partnerId: number, content: string) =>
  api.post<Message>(`/api/chats/${partnerId}`, { content })

export const markRead = (partnerId: number, upTo: number) =>
  api.put<ReadResult>(`/api/chats/${partnerId}/read`, undefined, { up_to: upTo })
