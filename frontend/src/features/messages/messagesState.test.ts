import { describe, expect, it } from 'vitest'
import { applySent, asSentEvent, chatsUpdate, markChatRead, sortChats, totalUnread } from './chatsState'
import {
  asReadEvent,
  fromPage,
  lastSeenId,
  shouldMarkRead,
  unreadUpTo,
  withMessage,
  withMyRead,
  withOlder,
  withReadReceipt,
} from './conversationState'
import { chatSummary, type ChatSummary, type ChatUser, type Message, type MessageSentEvent } from './types'

const ME = 1
const ADA = 2
const BOB = 3

function msg(id: number, sender: number, recipient: number, read_at: string | null = null): Message {
  return { id, sender_id: sender, recipient_id: recipient, content: `m${id}`, created_at: '2026-01-01T00:00:00Z', read_at }
}

const user = (id: number, name: string): ChatUser => ({ id, name, avatar: null, role: 'learner' })

function chat(partner: ChatUser, lastId: number, unread: number): ChatSummary {
  return chatSummary(partner, { id: lastId, content: 'x', sender_id: partner.id, created_at: '' }, unread)
}

function sent(message: Message, sender: ChatUser | null = null): MessageSentEvent {
  return { ...message, sender }
}

describe('conversation', () => {
  it('shows the newest-first page oldest first and knows whether older ones exist', () => {
    const conv = fromPage(ADA, { items: [msg(5, ADA, ME), msg(4, ME, ADA)], total: 3 })
    expect(conv.messages.map((m) => m.id)).toEqual([4, 5])
    expect(conv.hasOlder).toBe(true)
    const full = withOlder(conv, { items: [msg(2, ADA, ME)], total: 3 })
    expect(full.messages.map((m) => m.id)).toEqual([2, 4, 5])
    expect(full.hasOlder).toBe(false)
  })

  it('stops paging back on an empty page', () => {
    const conv = fromPage(ADA, { items: [msg(5, ADA, ME)], total: 9 })
    expect(withOlder(conv, { items: [], total: 9 }).hasOlder).toBe(false)
  })

  it('adds messages of this conversation once and ignores others', () => {
    let conv = fromPage(ADA, { items: [msg(4, ME, ADA)], total: 1 })
    conv = withMessage(conv, msg(6, ADA, ME), ME)
    conv = withMessage(conv, msg(6, ADA, ME), ME)
    conv = withMessage(conv, msg(7, BOB, ME), ME)
    conv = withMessage(conv, msg(8, ME, BOB), ME)
    expect(conv.messages.map((m) => m.id)).toEqual([4, 6])
  })

  it('keeps a known read mark when a stale copy arrives', () => {
    let conv = fromPage(ADA, { items: [msg(4, ME, ADA, '2026-01-02T00:00:00Z')], total: 1 })
    conv = withMessage(conv, msg(4, ME, ADA), ME)
    expect(conv.messages[0].read_at).toBe('2026-01-02T00:00:00Z')
  })

  it('applies read receipts from the partner to my messages up to the id', () => {
    let conv = fromPage(ADA, { items: [msg(3, ME, ADA), msg(4, ADA, ME), msg(5, ME, ADA), msg(6, ME, ADA)], total: 4 })
    expect(lastSeenId(conv, ME)).toBeNull()
    conv = withReadReceipt(conv, { reader_id: ADA, partner_id: ME, up_to_id: 5, count: 2, read_at: 'T' }, ME)
    expect(conv.messages.map((m) => m.read_at)).toEqual(['T', null, 'T', null])
    expect(lastSeenId(conv, ME)).toBe(5)
  })

  it('ignores receipts from someone else', () => {
    const conv = fromPage(ADA, { items: [msg(3, ME, ADA)], total: 1 })
    expect(withReadReceipt(conv, { reader_id: BOB, partner_id: ME, up_to_id: 9, count: 1, read_at: 'T' }, ME)).toBe(conv)
  })

  it('marks the partner’s messages read only when open and visible, once per id', () => {
    let conv = fromPage(ADA, { items: [msg(3, ADA, ME), msg(4, ME, ADA), msg(5, ADA, ME)], total: 3 })
    expect(unreadUpTo(conv)).toBe(5)
    expect(shouldMarkRead(conv, false, null)).toBeNull()
    expect(shouldMarkRead(undefined, true, null)).toBeNull()
    expect(shouldMarkRead(conv, true, null)).toBe(5)
    expect(shouldMarkRead(conv, true, 5)).toBeNull()
    conv = withMyRead(conv, 5, 'T')
    expect(unreadUpTo(conv)).toBeNull()
    expect(conv.messages[1].read_at).toBeNull() // mine stays unread until the partner reads it
    conv = withMessage(conv, msg(9, ADA, ME), ME)
    expect(shouldMarkRead(conv, true, 5)).toBe(9)
  })
})

describe('conversation list', () => {
  const ada = user(ADA, 'Ada')
  const bob = user(BOB, 'Bob')

  it('bumps the unread count of an incoming message and moves the chat to the top', () => {
    const chats = sortChats([chat(ada, 10, 0), chat(bob, 12, 1)])
    const { chats: next } = applySent(chats, sent(msg(13, ADA, ME)), ME, null)
    expect(next.map((c) => [c.partner.id, c.unread_count, c.latest_message.id])).toEqual([
      [ADA, 1, 13],
      [BOB, 1, 12],
    ])
    expect(totalUnread(next)).toBe(2)
  })

  it('does not count messages of the conversation being read, nor my own, nor one it already has', () => {
    const chats = [chat(ada, 10, 0)]
    expect(applySent(chats, sent(msg(11, ADA, ME)), ME, ADA).chats[0].unread_count).toBe(0)
    expect(applySent(chats, sent(msg(11, ME, ADA)), ME, null).chats[0].unread_count).toBe(0)
    expect(applySent(chats, sent(msg(10, ADA, ME)), ME, null).chats).toBe(chats)
  })

  it('starts a conversation from the event’s sender, or asks for a reload when it cannot', () => {
    const started = applySent([], sent(msg(20, BOB, ME), bob), ME, null)
    expect(started.chats.map((c) => [c.partner.name, c.unread_count])).toEqual([['Bob', 1]])
    const mine = applySent([], sent(msg(21, ME, BOB), user(ME, 'Me')), ME, null)
    expect(mine.unknownPartner).toBe(true)
  })

  it('clears a conversation’s unread count', () => {
    const chats = [chat(ada, 10, 3)]
    expect(markChatRead(chats, ADA)[0].unread_count).toBe(0)
    expect(markChatRead(chats, BOB)).toBe(chats)
  })
})

describe('event parsing', () => {
  it('accepts the server payloads and rejects junk', () => {
    expect(asSentEvent({ ...msg(1, ADA, ME), sender: null })?.id).toBe(1)
    expect(asSentEvent({ id: '1' })).toBeNull()
    expect(asReadEvent({ reader_id: 2, partner_id: 1, up_to_id: 5, count: 1, read_at: 'T' })?.up_to_id).toBe(5)
    expect(asReadEvent({ reader_id: 2 })).toBeNull()
  })
})

describe('chatsUpdate', () => {
  const sent = { id: 9, sender_id: ADA, recipient_id: ME, content: 'hi', created_at: '2025-01-01T00:00:00Z', read_at: null }

  it('reads a message sent to or by me', () => {
    expect(chatsUpdate({ event: 'message.sent', data: sent }, ME)).toEqual({ kind: 'sent', event: { ...sent, sender: null } })
  })

  it('marks a conversation read only when I am the reader', () => {
    const read = { reader_id: ME, partner_id: ADA, up_to_id: 9, read_at: '2025-01-01T00:00:01Z' }
    expect(chatsUpdate({ event: 'message.read', data: read }, ME)).toEqual({ kind: 'read', partnerId: ADA })
    expect(chatsUpdate({ event: 'message.read', data: { ...read, reader_id: BOB, partner_id: ME } }, ME)).toBeNull()
  })

  it('ignores other events and malformed data', () => {
    expect(chatsUpdate({ event: 'typing', data: {} }, ME)).toBeNull()
    expect(chatsUpdate({ event: 'message.sent', data: { id: 'x' } }, ME)).toBeNull()
    expect(chatsUpdate({ event: 'message.read', data: null }, ME)).toBeNull()
  })
})
