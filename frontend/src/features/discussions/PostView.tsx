// One post: author, plain-text content, votes, and the actions the viewer may take.
import { useState, type ReactNode } from 'react'
import { Button, ErrorMessage, formatDate } from '../../components/ui'
import { useAction } from '../../lib/useAction'
import type { Post } from './api'
import { Composer } from './Composer'

export interface PostActions {
  onVote(post: Post, vote: 1 | -1): Promise<void>
  onEdit(post: Post, content: string): Promise<void>
  onDelete(post: Post): Promise<void>
}

interface PostViewProps extends PostActions {
  post: Post
  me: number
  /** The course owner or an admin: may edit and delete any post. */
  isManager: boolean
  blocked: boolean
  onTyping(): void
  children?: ReactNode
}

const voteButton =
  'rounded px-2 py-1 text-sm hover:bg-slate-100 disabled:cursor-not-allowed disabled:opacity-50 dark:hover:bg-slate-800 aria-pressed:bg-indigo-100 aria-pressed:text-indigo-700 dark:aria-pressed:bg-indigo-950 dark:aria-pressed:text-indigo-300'

export function PostView({ post, me, isManager, blocked, onVote, onEdit, onDelete, onTyping, children }: PostViewProps) {
  const [editing, setEditing] = useState(false)
  const { error, busy, run } = useAction()
  const mine = post.author.id === me
  const edited = post.updated_at !== post.created_at

  return (
    <article data-testid="discussion-post" data-post-id={post.id} aria-labelledby={`post-${post.id}-author`} className="space-y-2">
      <header className="flex flex-wrap items-center gap-x-2 gap-y-1 text-sm">
        <span id={`post-${post.id}-author`} className="font-medium">
          {post.author.name}
        </span>
        {post.author.role !== 'learner' && (
          <span className="rounded bg-slate-200 px-1.5 py-0.5 text-xs capitalize dark:bg-slate-700">{post.author.role}</span>
        )}
        <time dateTime={post.created_at} className="text-xs text-slate-500 dark:text-slate-400">
          {formatDate(post.created_at)}
        </time>
        {edited && <span className="text-xs text-slate-500 dark:text-slate-400">(edited)</span>}
        {post.is_private && (
          <span className="rounded bg-amber-100 px-1.5 py-0.5 text-xs text-amber-900 dark:bg-amber-950 dark:text-amber-200">Private</span>
        )}
      </header>
      {editing ? (
        <Composer
          label="Edit your post"
          submitLabel="Save"
          initial={post.content}
          onTyping={onTyping}
          onCancel={() => setEditing(false)}
          onSubmit={async (content) => {
            await onEdit(post, content)
            setEditing(false)
          }}
        />
      ) : (
        // Plain text by contract: rendered as text (never as HTML), line breaks kept.
        <p className="whitespace-pre-wrap break-words">{post.content}</p>
      )}
      <div className="flex flex-wrap items-center gap-1 text-sm">
        <Button
          variant="ghost"
          data-testid="vote-up"
          className={voteButton}
          aria-label={`Upvote post by ${post.author.name}`}
          aria-pressed={post.user_vote === 1}
          disabled={busy || mine || blocked}
          title={mine ? 'You cannot vote on your own post' : undefined}
          onClick={() => void run(() => onVote(post, 1))}
        >
          ▲
        </Button>
        <span data-testid="vote-count" aria-label="Upvotes" className="min-w-6 text-center tabular-nums">
          {post.upvotes}
        </span>
        <Button
          variant="ghost"
          data-testid="vote-down"
          className={voteButton}
          aria-label={`Downvote post by ${post.author.name}`}
          aria-pressed={post.user_vote === -1}
          disabled={busy || mine || blocked}
          onClick={() => void run(() => onVote(post, -1))}
        >
          ▼
        </Button>
        {post.downvotes !== null && <span className="text-xs text-slate-500 dark:text-slate-400">({post.downvotes} down)</span>}
        {(mine || isManager) && !editing && !blocked && (
          <>
            <Button variant="ghost" className="px-2 py-1" disabled={busy} onClick={() => setEditing(true)}>
              Edit
            </Button>
            <Button
              variant="ghost"
              className="px-2 py-1 text-rose-700 dark:text-rose-400"
              disabled={busy}
              onClick={() => {
                const what = post.parent_id === null ? 'this thread and its replies' : 'this reply'
                if (window.confirm(`Delete ${what}?`)) void run(() => onDelete(post))
              }}
            >
              Delete
            </Button>
          </>
        )}
        {children}
      </div>
      {error && <ErrorMessage error={error} />}
    </article>
  )
}
