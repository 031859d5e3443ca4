// Unread direct messages of the signed-in user, live: for a badge in the navigation.
import { useEffect } from 'react'
import { useSession } from '../../lib/session'
import { markChatRead, totalUnread } from './chatsState'
import { onConversationRead } from './readSignal'
import { useChats } from './useChats'

export function useUnreadCount(): number {
  const { user } = useSession()
  const { chats } = useChats(user?.id ?? null, null)
  const { setData } = chats

  useEffect(() => onConversationRead((partnerId) => setData((current) => current && markChatRead(current, partnerId))), [setData])

  return totalUnread(chats.data ?? [])
}
