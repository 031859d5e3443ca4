import { describe, expect, it } from 'vitest'
import { activeTypers, makeTypingThrottle, nextExpiry, noteTyping, stopTyping, typingText } from './typing'

describe('typing throttle', () => {
  it('allows at most one send per 3 seconds', () => {
    const allow = makeTypingThrottle()
    expect(allow(1_000)).toBe(true)
    expect(allow(2_000)).toBe(false)
    expect(allow(3_999)).toBe(false)
    expect(allow(4_000)).toBe(true)
  })
})

describe('typing indicators', () => {
  const data = (id: number, name: string) => ({ user: { user_id: id, name, role: 'learner', avatar: null } })

  it('shows someone else for five seconds', () => {
    const typers = noteTyping({}, data(7, 'Ada'), 5, 1_000)
    expect(activeTypers(typers, 5_999)).toEqual(['Ada'])
    expect(activeTypers(typers, 6_000)).toEqual([])
    expect(nextExpiry(typers, 2_000)).toBe(4_000)
    expect(nextExpiry(typers, 7_000)).toBeNull()
  })

  it('never shows me', () => {
    expect(noteTyping({}, data(5, 'Me'), 5, 0)).toEqual({})
  })

  it('extends on a new publication and clears on a post', () => {
    let typers = noteTyping({}, data(7, 'Ada'), 5, 0)
    typers = noteTyping(typers, data(7, 'Ada'), 5, 4_000)
    expect(activeTypers(typers, 8_000)).toEqual(['Ada'])
    typers = stopTyping(typers, 7)
    expect(activeTypers(typers, 8_000)).toEqual([])
  })

  it('ignores malformed data', () => {
    expect(noteTyping({}, null, 5, 0)).toEqual({})
    expect(noteTyping({}, { user: {} }, 5, 0)).toEqual({})
  })

  it('words the indicator', () => {
    expect(typingText([])).toBe('')
    expect(typingText(['Ada'])).toBe('Ada is typing…')
    expect(typingText(['Ada', 'Bob'])).toBe('Ada and Bob are typing…')
    expect(typingText(['A', 'B', 'C'])).toBe('3 people are typing…')
  })
})
