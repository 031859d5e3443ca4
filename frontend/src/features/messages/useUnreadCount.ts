// Unread direct messages of the signed-in user, live: for a badge in the navigation.
import { useEffect } from 'react'
import { useChannel } from '../../lib/live'
import { useSession } from '../../lib/session'
import { useResource } from '../../lib/useResource'
import { listChats } from './api'
import { applySent, asSentEvent, markChatRead, totalUnread } from './chatsState'
import { asReadEvent } from './conversationState'
import { onConversationRead } from './readSignal'
import type { ChatSummary } from './types'

export function useUnreadCount(): number {
  const { user } = useSession()
  const me = user?.id ?? null
  const chats = useResource<ChatSummary[]>(
    (signal) => (me === null ? Promise.resolve([]) : listChats(signal).then((page) => page.items)),
    [me],
  )
  const { setData, reload } = chats

  useChannel(me === null ? null : `user:${me}`, {
    onPublication(publication) {
      if (me === null) return
      if (publication.event === 'message.read') {
        // I read a conversation in another tab or on another device.
        const read = asReadEvent(publication.data)
        if (read && read.reader_id === me) setData((current) => current && markChatRead(current, read.partner_id))
        return
      }
      if (publication.event !== 'message.sent') return
      const event = asSentEvent(publication.data)
      if (!event) return
      // Updaters may run later, during the next render: decide about a reload from the rendered list.
      if (applySent(chats.data ?? [], event, me, null).unknownPartner) reload()
      else setData((current) => applySent(current ?? [], event, me, null).chats)
    },
    onRecoveryFailed: reload,
  })

  useEffect(() => onConversationRead((partnerId) => setData((current) => current && markChatRead(current, partnerId))), [setData])

  return totalUnread(chats.data ?? [])
}
