// My conversation list, live through `user:{me}`: shared by the messages page and the unread badge.
import { useChannel } from '../../lib/live'
import { useResource, type Resource } from '../../lib/useResource'
import { listChats } from './api'
import { applySent, chatsUpdate, markChatRead } from './chatsState'
import type { ChatSummary, MessageSentEvent } from './types'

export interface LiveChats {
  chats: Resource<ChatSummary[]>
  /** Apply a message sent to or by me (also used for my own sends, which the page knows first). */
  applyEvent(event: MessageSentEvent): void
}

/** `me` null: no user, an empty list. `reading`: the partner whose conversation is on screen (not unread). */
export function useChats(me: number | null, reading: number | null): LiveChats {
  const chats = useResource<ChatSummary[]>(
    (signal) => (me === null ? Promise.resolve([]) : listChats(signal).then((page) => page.items)),
    [me],
  )
  const { setData, reload } = chats

  const applyEvent = (event: MessageSentEvent) => {
    if (me === null) return
    // Updaters may run later, during the next render: decide about a reload from the rendered list.
    if (applySent(chats.data ?? [], event, me, reading).unknownPartner) reload()
    else setData((current) => applySent(current ?? [], event, me, reading).chats)
  }

  useChannel(me === null ? null : `user:${me}`, {
    onPublication(publication) {
      if (me === null) return
      const update = chatsUpdate(publication, me)
      if (update?.kind === 'read') {
        const partnerId = update.partnerId
        setData((current) => current && markChatRead(current, partnerId))
      } else if (update?.kind === 'sent') applyEvent(update.event)
    },
    onRecoveryFailed: reload,
  })

  return { chats, applyEvent }
}
