import { describe, expect, it } from 'vitest'
import type { Post } from './api'
import { addPost, applyDiscussionEvent, applyVoteResult, removePost, type ThreadList } from './threads'

function post(id: number, fields: Partial<Post> = {}): Post {
  return {
    id,
    course_id: 1,
    user_id: 100 + id,
    author_name: `User ${id}`,
    author_avatar: null,
    content: `post ${id}`,
    author: { id: 100 + id, name: `User ${id}`, avatar: null, role: 'learner' },
    lesson_id: null,
    parent_id: null,
    is_private: false,
    upvotes: 0,
    downvotes: null,
    user_vote: 0,
    course_title: null,
    lesson_title: null,
    reply_count: 0,
    created_at: '2026-01-01T00:00:00Z',
    updated_at: '2026-01-01T00:00:00Z',
    ...fields,
  }
}

function list(): ThreadList {
  return { threads: [post(3, { upvotes: 5 }), post(2, { reply_count: 1 }), post(1)], replies: { 2: [post(10, { parent_id: 2 })] }, total: 3 }
}

function payload(p: Post, extra: Record<string, unknown> = {}) {
  const { id, course_id, parent_id, lesson_id, is_private, content, author, upvotes, created_at, updated_at } = p
  return { id, course_id, parent_id, lesson_id, is_private, content, author, upvotes, created_at, updated_at, ...extra }
}

describe('applyDiscussionEvent', () => {
  it('fills the flat author fields of a post built from an event', () => {
    const created = payload(post(4), { author: { id: 7, name: 'Ada Lovelace', avatar: 'https://a/x.png', role: 'learner' } })
    const added = applyDiscussionEvent(list(), 1, 'new', 'comment.created', created).threads[0]
    expect(added).toMatchObject({ id: 4, user_id: 7, author_name: 'Ada Lovelace', author_avatar: 'https://a/x.png', user_vote: 0 })
    const renamed = { ...created, content: 'edited', author: { id: 7, name: 'Ada King', avatar: null, role: 'learner' } }
    const edited = applyDiscussionEvent({ ...list(), threads: [added!] }, 1, 'new', 'comment.edited', renamed).threads[0]
    expect(edited).toMatchObject({ content: 'edited', author_name: 'Ada King', author_avatar: null })
  })

  it('adds a new thread where the sort puts it', () => {
    const created = payload(post(4, { upvotes: 1 }))
    expect(applyDiscussionEvent(list(), 1, 'new', 'comment.created', created).threads.map((t) => t.id)).toEqual([4, 3, 2, 1])
    expect(applyDiscussionEvent(list(), 1, 'old', 'comment.created', created).threads.map((t) => t.id)).toEqual([3, 2, 1, 4])
    const top = applyDiscussionEvent(list(), 1, 'top', 'comment.created', created)
    expect(top.threads.map((t) => t.id)).toEqual([3, 4, 2, 1])
    expect(top.total).toBe(4)
  })

  it('does not add a post twice (own REST reply and its event)', () => {
    const mine = post(4)
    const once = addPost(list(), mine, 'new')
    const twice = applyDiscussionEvent(once, 1, 'new', 'comment.created', payload(mine))
    expect(twice.threads.filter((t) => t.id === 4)).toHaveLength(1)
    expect(twice.total).toBe(4)
  })

  it('adds a reply to a loaded thread and counts it', () => {
    const next = applyDiscussionEvent(list(), 1, 'new', 'comment.created', payload(post(11, { parent_id: 2 })))
    expect(next.replies[2]?.map((r) => r.id)).toEqual([10, 11])
    expect(next.threads.find((t) => t.id === 2)?.reply_count).toBe(2)
  })

  it('counts a reply to a thread whose replies are not loaded', () => {
    const next = applyDiscussionEvent(list(), 1, 'new', 'comment.created', payload(post(12, { parent_id: 1 })))
    expect(next.replies[1]).toBeUndefined()
    expect(next.threads.find((t) => t.id === 1)?.reply_count).toBe(1)
  })

  it('edits content in threads and replies', () => {
    const edited = applyDiscussionEvent(list(), 1, 'new', 'comment.edited', payload(post(10, { parent_id: 2, content: 'changed', updated_at: '2026-01-02T00:00:00Z' })))
    expect(edited.replies[2]?.[0]?.content).toBe('changed')
    expect(edited.replies[2]?.[0]?.updated_at).toBe('2026-01-02T00:00:00Z')
  })

  it('deletes a reply and a whole thread', () => {
    const base = list()
    const noReply = applyDiscussionEvent(base, 1, 'new', 'comment.deleted', { id: 10, course_id: 1, parent_id: 2, lesson_id: null, is_private: false, replies_deleted: 0 })
    expect(noReply.replies[2]).toEqual([])
    expect(noReply.threads.find((t) => t.id === 2)?.reply_count).toBe(0)
    const noThread = applyDiscussionEvent(base, 1, 'new', 'comment.deleted', { id: 2, course_id: 1, parent_id: null, lesson_id: null, is_private: false, replies_deleted: 1 })
    expect(noThread.threads.map((t) => t.id)).toEqual([3, 1])
    expect(noThread.replies[2]).toBeUndefined()
    expect(noThread.total).toBe(2)
    expect(removePost(noThread, 2, null)).toBe(noThread)
  })

  it('updates upvotes on vote.changed but keeps my vote and staff downvotes', () => {
    const mine = { ...list(), threads: [post(3, { upvotes: 5, user_vote: 1, downvotes: 2 })] }
    const next = applyDiscussionEvent(mine, 1, 'new', 'vote.changed', { id: 3, course_id: 1, parent_id: null, lesson_id: null, is_private: false, upvotes: 6 })
    expect(next.threads[0]).toMatchObject({ upvotes: 6, user_vote: 1, downvotes: 2 })
  })

  it('applies my own vote result', () => {
    const next = applyVoteResult(list(), { message: 'Vote registered', comment_id: 10, upvotes: 1, downvotes: null, user_vote: 1 })
    expect(next.replies[2]?.[0]).toMatchObject({ upvotes: 1, user_vote: 1 })
  })

  it('ignores events of other courses and unknown events', () => {
    const base = list()
    expect(applyDiscussionEvent(base, 1, 'new', 'comment.created', payload(post(4, { course_id: 2 })))).toBe(base)
    expect(applyDiscussionEvent(base, 1, 'new', 'typing', { user: { user_id: 1 } })).toBe(base)
    expect(applyDiscussionEvent(base, 1, 'new', 'vote.changed', { id: 999, course_id: 1, upvotes: 3 })).toBe(base)
  })
})
