// The discussion list as a value, and how each live event (comment.created/edited/deleted,
// vote.changed) changes it — pure, so other viewers' updates are unit-tested without a DOM.
import type { Post, Sort, VoteResult } from './api'

export interface ThreadList {
  threads: Post[]
  /** Replies of the threads whose replies were loaded, oldest first; absent = not loaded yet. */
  replies: Record<number, Post[]>
  total: number
}

/** The fields every discussion event carries (app/discussions/service.py `_event_payload`). */
interface EventPost {
  id: number
  course_id: number
  parent_id: number | null
  lesson_id: string | null
  is_private: boolean
  content?: string
  author?: Post['author']
  upvotes?: number
  created_at?: string
  updated_at?: string
  replies_deleted?: number
}

function asEventPost(data: unknown): EventPost | null {
  if (typeof data !== 'object' || data === null) return null
  const value = data as Partial<EventPost>
  if (typeof value.id !== 'number' || typeof value.course_id !== 'number') return null
  return { ...value, parent_id: value.parent_id ?? null, lesson_id: value.lesson_id ?? null, is_private: Boolean(value.is_private) } as EventPost
}

function fromEvent(event: EventPost): Post | null {
  if (event.content === undefined || event.author === undefined) return null
  const now = new Date().toISOString()
  return {
    id: event.id,
    course_id: event.course_id,
    user_id: event.author.id,
    author_name: event.author.name,
    author_avatar: event.author.avatar,
    content: event.content,
    author: event.author,
    lesson_id: event.lesson_id,
    parent_id: event.parent_id,
    is_private: event.is_private,
    upvotes: event.upvotes ?? 0,
    downvotes: null,
    user_vote: 0,
    course_title: null,
    lesson_title: null,
    reply_count: 0,
    created_at: event.created_at ?? now,
    updated_at: event.updated_at ?? event.created_at ?? now,
  }
}

function score(post: Post): number {
  return post.upvotes - (post.downvotes ?? 0)
}

/** Where a new thread goes in the current order (the server's: new = newest first, top = score then newest). */
function insertThread(threads: Post[], post: Post, sort: Sort): Post[] {
  if (sort === 'old') return [...threads, post]
  if (sort === 'new') return [post, ...threads]
  const at = threads.findIndex((other) => score(other) <= score(post))
  return at === -1 ? [...threads, post] : [...threads.slice(0, at), post, ...threads.slice(at)]
}

function mapPost(list: ThreadList, id: number, update: (post: Post) => Post): ThreadList {
  let changed = false
  const apply = (post: Post) => {
    if (post.id !== id) return post
    changed = true
    return update(post)
  }
  const threads = list.threads.map(apply)
  const replies: Record<number, Post[]> = {}
  for (const [parent, items] of Object.entries(list.replies)) replies[Number(parent)] = items.map(apply)
  return changed ? { ...list, threads, replies } : list
}

/** Add a post (ours from a REST reply, or someone's from an event); a post already shown is not added twice. */
export function addPost(list: ThreadList, post: Post, sort: Sort): ThreadList {
  if (post.parent_id === null) {
    if (list.threads.some((thread) => thread.id === post.id)) return list
    return { ...list, threads: insertThread(list.threads, post, sort), total: list.total + 1 }
  }
  const parentId = post.parent_id
  const loaded = list.replies[parentId]
  if (loaded?.some((reply) => reply.id === post.id)) return list
  const withCount = mapPost(list, parentId, (thread) => ({ ...thread, reply_count: thread.reply_count + 1 }))
  return loaded ? { ...withCount, replies: { ...withCount.replies, [parentId]: [...loaded, post] } } : withCount
}

/** Remove a post; a thread's replies go with it. */
export function removePost(list: ThreadList, id: number, parentId: number | null): ThreadList {
  if (parentId === null) {
    if (!list.threads.some((thread) => thread.id === id)) return list
    const replies = { ...list.replies }
    delete replies[id]
    return { threads: list.threads.filter((thread) => thread.id !== id), replies, total: Math.max(0, list.total - 1) }
  }
  const loaded = list.replies[parentId]
  const wasLoaded = loaded?.some((reply) => reply.id === id) ?? false
  const known = wasLoaded || list.threads.some((thread) => thread.id === parentId)
  if (!known) return list
  const withCount = mapPost(list, parentId, (thread) => ({ ...thread, reply_count: Math.max(0, thread.reply_count - 1) }))
  return loaded ? { ...withCount, replies: { ...withCount.replies, [parentId]: loaded.filter((reply) => reply.id !== id) } } : withCount
}

/** Our own vote, from the REST reply (it carries our user_vote and, for staff, the downvotes). */
export function applyVoteResult(list: ThreadList, result: VoteResult): ThreadList {
  return mapPost(list, result.comment_id, (post) => ({
    ...post,
    upvotes: result.upvotes,
    downvotes: result.downvotes ?? post.downvotes,
    user_vote: result.user_vote,
  }))
}

/** Apply a publication of `course:{id}:discussion` (or a private one from `user:{me}`) for this course. */
export function applyDiscussionEvent(list: ThreadList, courseId: number, sort: Sort, event: string, data: unknown): ThreadList {
  const payload = asEventPost(data)
  if (!payload || payload.course_id !== courseId) return list
  switch (event) {
    case 'comment.created': {
      const post = fromEvent(payload)
      return post ? addPost(list, post, sort) : list
    }
    case 'comment.edited':
      return mapPost(list, payload.id, (post) => ({
        ...post,
        content: payload.content ?? post.content,
        author: payload.author ?? post.author,
        author_name: payload.author?.name ?? post.author_name,
        author_avatar: payload.author ? payload.author.avatar : post.author_avatar,
        updated_at: payload.updated_at ?? post.updated_at,
      }))
    case 'comment.deleted':
      return removePost(list, payload.id, payload.parent_id)
    case 'vote.changed':
      // Only the upvotes are public; our own user_vote and the staff-only downvotes stay as they were.
      return typeof payload.upvotes === 'number' ? mapPost(list, payload.id, (post) => ({ ...post, upvotes: payload.upvotes! })) : list
    default:
      return list
  }
}
