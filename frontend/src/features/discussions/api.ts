// Discussion shapes (DiscussionItem, VoteResult in /api/openapi.json) and calls.
import { api } from '../../lib/client'
import type { Page } from '../../lib/api'

export type Sort = 'new' | 'top' | 'old'

export interface Author {
  id: number
  name: string
  avatar: string | null
  role: string
}

/** Our own vote on a post: 1 up, -1 down, 0 none. */
export type UserVote = 1 | -1 | 0

export interface Post {
  id: number
  course_id: number
  /** The author's id; `author` has their name, avatar and role too. */
  user_id: number
  author_name: string
  author_avatar: string | null
  content: string
  author: Author
  lesson_id: string | null
  parent_id: number | null
  is_private: boolean
  upvotes: number
  /** Only the course owner and admins are told; null for everyone else. */
  downvotes: number | null
  user_vote: UserVote
  course_title: string | null
  lesson_title: string | null
  reply_count: number
  created_at: string
  updated_at: string
}

export interface VoteResult {
  message: string
  comment_id: number
  upvotes: number
  downvotes: number | null
  user_vote: UserVote
}

export const PAGE_SIZE = 50

export function listThreads(courseId: number, sort: Sort, skip: number, signal?: AbortSignal): Promise<Page<Post>> {
  return api.page<Post>(`/api/courses/${courseId}/discussions`, { threads: true, sort, skip, limit: PAGE_SIZE }, signal)
}

export function listReplies(courseId: number, parentId: number): Promise<Page<Post>> {
  return api.page<Post>(`/api/courses/${courseId}/discussions`, { parent_id: parentId, sort: 'old', limit: 100 })
}

export function createPost(courseId: number, body: { content: string; is_private?: boolean; parent_id?: number | null }): Promise<Post> {
  return api.post<Post>(`/api/courses/${courseId}/discussions`, body)
}

export function privateReply(commentId: number, content: string): Promise<Post> {
  return api.post<Post>(`/api/discussions/${commentId}/reply`, { content })
}

export function editPost(commentId: number, content: string): Promise<Post> {
  return api.put<Post>(`/api/discussions/${commentId}`, { content })
}

export function deletePost(commentId: number): Promise<{ message: string }> {
  return api.delete<{ message: string }>(`/api/discussions/${commentId}`)
}

export function votePost(commentId: number, voteType: 1 | -1): Promise<VoteResult> {
  return api.post<VoteResult>(`/api/discussions/${commentId}/vote`, { vote_type: voteType })
}
