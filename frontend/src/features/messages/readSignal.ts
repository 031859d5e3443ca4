// "I just read a conversation" inside this tab. The server tells only the other person (`message.read`
// goes to the sender's channel), so the nav badge learns of my own reads from here.
type Listener = (partnerId: number) => void

const listeners = new Set<Listener>()

export function onConversationRead(listener: Listener): () => void {
  listeners.add(listener)
  return () => listeners.delete(listener)
}

export function conversationRead(partnerId: number): void {
  for (const listener of listeners) listener(partnerId)
}
