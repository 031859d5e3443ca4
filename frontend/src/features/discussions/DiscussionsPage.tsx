// A course's discussions: threads and replies, votes, edits, private posts, live updates and typing.
import { useCallback, useEffect, useMemo, useState } from 'react'
import { Link, useParams } from 'react-router'
import { Button, Card, Empty, ErrorMessage, PageHeader, SelectField, Spinner } from '../../components/ui'
import { ApiError } from '../../lib/api'
import { api, live } from '../../lib/client'
import { useChannel } from '../../lib/live'
import { useSession } from '../../lib/session'
import { useResource } from '../../lib/useResource'
import { createPost, deletePost, editPost, listReplies, listThreads, privateReply, votePost, type Post, type Sort } from './api'
import { Composer } from './Composer'
import { PostView, type PostActions } from './PostView'
import { addPost, applyDiscussionEvent, applyVoteResult, removePost, type ThreadList } from './threads'
import { activeTypers, makeTypingThrottle, nextExpiry, noteTyping, stopTyping, typingText, type Typers } from './typing'

interface ThreadProps extends PostActions {
  thread: Post
  replies: Post[] | undefined
  me: number
  isManager: boolean
  blocked: boolean
  onTyping(): void
  onLoadReplies(thread: Post): Promise<void>
  onReply(thread: Post, content: string, asPrivate: boolean): Promise<void>
}

function Thread({ thread, replies, me, isManager, blocked, onTyping, onLoadReplies, onReply, ...actions }: ThreadProps) {
  const [open, setOpen] = useState(false)
  const [replying, setReplying] = useState<'public' | 'private' | null>(null)
  const [loadError, setLoadError] = useState<ApiError | null>(null)
  const [loadingReplies, setLoadingReplies] = useState(false)

  async function expand() {
    setOpen(true)
    if (replies !== undefined) return
    setLoadingReplies(true)
    setLoadError(null)
    try {
      await onLoadReplies(thread)
    } catch (error) {
      setLoadError(error instanceof ApiError ? error : new ApiError(0, 'error', String(error)))
    } finally {
      setLoadingReplies(false)
    }
  }

  return (
    <li>
      <Card className="space-y-3">
        <PostView post={thread} me={me} isManager={isManager} blocked={blocked} onTyping={onTyping} {...actions}>
          <Button variant="ghost" className="px-2 py-1" aria-expanded={open} onClick={() => (open ? setOpen(false) : void expand())}>
            {open ? 'Hide replies' : thread.reply_count === 1 ? '1 reply' : `${thread.reply_count} replies`}
          </Button>
          {!blocked && (
            <Button
              variant="ghost"
              className="px-2 py-1"
              onClick={() => {
                void expand()
                setReplying('public')
              }}
            >
              Reply
            </Button>
          )}
          {!blocked && isManager && (
            <Button
              variant="ghost"
              className="px-2 py-1"
              onClick={() => {
                void expand()
                setReplying('private')
              }}
            >
              Reply privately
            </Button>
          )}
        </PostView>
        {open && (
          <div className="space-y-3 border-l-2 border-slate-200 pl-4 dark:border-slate-700">
            {loadingReplies && <Spinner label="Loading replies…" />}
            {loadError && <ErrorMessage error={loadError} onRetry={() => void expand()} />}
            {replies?.length === 0 && !replying && <p className="text-sm text-slate-500 dark:text-slate-400">No replies yet.</p>}
            <ul className="space-y-4">
              {replies?.map((reply) => (
                <li key={reply.id}>
                  <PostView post={reply} me={me} isManager={isManager} blocked={blocked} onTyping={onTyping} {...actions} />
                </li>
              ))}
            </ul>
            {replying && replies !== undefined && (
              <Composer
                label={replying === 'private' ? 'Private reply (the thread starter and staff only)' : 'Write a reply'}
                submitLabel={replying === 'private' ? 'Reply privately' : 'Reply'}
                onTyping={onTyping}
                onCancel={() => setReplying(null)}
                onSubmit={async (content) => {
                  await onReply(thread, content, replying === 'private')
                  setReplying(null)
                }}
              />
            )}
          </div>
        )}
      </Card>
    </li>
  )
}

export default function DiscussionsPage() {
  const courseId = Number(useParams().courseId)
  const { user } = useSession()
  const me = user?.id ?? 0
  const [sort, setSort] = useState<Sort>('new')
  const [loadingMore, setLoadingMore] = useState(false)
  const [moreError, setMoreError] = useState<ApiError | null>(null)
  const [typers, setTypers] = useState<Typers>({})
  const [now, setNow] = useState(() => Date.now())
  const allowTyping = useMemo(() => makeTypingThrottle(), [])
  const channel = `course:${courseId}:discussion`

  const course = useResource((signal) => api.get<{ title: string; instructor_id: number }>(`/api/courses/${courseId}`, undefined, signal), [courseId])
  const list = useResource(async (signal): Promise<ThreadList> => {
    const page = await listThreads(courseId, sort, 0, signal)
    return { threads: page.items, replies: {}, total: page.total }
  }, [courseId, sort])
  const { setData, reload } = list

  const onEvent = useCallback(
    (event: string, data: unknown) => {
      if (event === 'typing') {
        setTypers((current) => noteTyping(current, data, me, Date.now()))
        setNow(Date.now())
        return
      }
      setData((current) => (current ? applyDiscussionEvent(current, courseId, sort, event, data) : current))
      const author = (data as { author?: { id?: unknown } } | null)?.author?.id
      if (event === 'comment.created' && typeof author === 'number') setTypers((current) => stopTyping(current, author))
    },
    [courseId, me, setData, sort],
  )

  useChannel(channel, {
    onPublication: (publication) => onEvent(publication.event, publication.data),
    onRecoveryFailed: reload,
  })
  // Private posts are published to the `user:{id}` channels of the people allowed to see them.
  useChannel(user ? `user:${user.id}` : null, {
    onPublication: (publication) => {
      if (publication.event.startsWith('comment.') || publication.event === 'vote.changed') onEvent(publication.event, publication.data)
    },
    onRecoveryFailed: reload,
  })

  useEffect(() => {
    const wait = nextExpiry(typers, Date.now())
    if (wait === null) return
    const timer = window.setTimeout(() => setNow(Date.now()), wait + 50)
    return () => window.clearTimeout(timer)
  }, [typers, now])

  const onTyping = useCallback(() => {
    if (allowTyping(Date.now())) live.request({ op: 'typing', channel }).catch(() => undefined)
  }, [allowTyping, channel])

  const actions: PostActions = {
    async onVote(post, vote) {
      const result = await votePost(post.id, vote)
      setData((current) => (current ? applyVoteResult(current, result) : current))
    },
    async onEdit(post, content) {
      const updated = await editPost(post.id, content)
      setData((current) => (current ? applyDiscussionEvent(current, courseId, sort, 'comment.edited', updated) : current))
    },
    async onDelete(post) {
      await deletePost(post.id)
      setData((current) => (current ? removePost(current, post.id, post.parent_id) : current))
    },
  }

  async function loadReplies(thread: Post) {
    const page = await listReplies(courseId, thread.id)
    setData((current) =>
      current
        ? {
            ...current,
            replies: { ...current.replies, [thread.id]: page.items },
            threads: current.threads.map((item) => (item.id === thread.id ? { ...item, reply_count: page.total } : item)),
          }
        : current,
    )
  }

  async function reply(thread: Post, content: string, asPrivate: boolean) {
    const post = asPrivate ? await privateReply(thread.id, content) : await createPost(courseId, { content, parent_id: thread.id })
    setData((current) => (current ? addPost(current, post, sort) : current))
  }

  async function loadMore() {
    const current = list.data
    if (!current) return
    setLoadingMore(true)
    setMoreError(null)
    try {
      const page = await listThreads(courseId, sort, current.threads.length)
      setData((latest) => {
        if (!latest) return latest
        const known = new Set(latest.threads.map((thread) => thread.id))
        return { ...latest, threads: [...latest.threads, ...page.items.filter((item) => !known.has(item.id))], total: page.total }
      })
    } catch (error) {
      setMoreError(error instanceof ApiError ? error : new ApiError(0, 'error', String(error)))
    } finally {
      setLoadingMore(false)
    }
  }

  const error = list.error ?? course.error
  if (error && !list.data) {
    if (error.code === 'not_enrolled' || error.status === 404) {
      return (
        <Card className="mx-auto max-w-xl text-center">
          <h1 className="text-xl font-semibold">Enroll first</h1>
          <p className="mt-2 text-sm text-slate-600 dark:text-slate-400">{error.message}</p>
          <Link to={`/courses/${courseId}`} className="mt-4 inline-block text-indigo-600 underline dark:text-indigo-400">
            Go to the course page
          </Link>
        </Card>
      )
    }
    return <ErrorMessage error={error} onRetry={list.reload} />
  }

  const isManager = user?.role === 'admin' || (course.data !== undefined && course.data.instructor_id === user?.id)
  const blocked = Boolean(user?.is_blocked)
  const typing = typingText(activeTypers(typers, now))

  return (
    <>
      <PageHeader
        title="Discussions"
        actions={
          <Link to={`/courses/${courseId}/learn`} className="rounded-md border border-slate-300 px-3 py-2 text-sm hover:bg-slate-100 dark:border-slate-600 dark:hover:bg-slate-800">
            Back to the lessons
          </Link>
        }
      >
        {course.data?.title ?? ''}
      </PageHeader>

      <Card className="mb-6">
        {blocked ? (
          <p className="text-sm text-slate-600 dark:text-slate-400">Your account is blocked: you can read the discussions but not post or vote.</p>
        ) : (
          <Composer label="Write a post" submitLabel="Post" allowPrivate testId="discussion-form" onTyping={onTyping} onSubmit={async (content, isPrivate) => {
            const post = await createPost(courseId, { content, is_private: isPrivate })
            setData((current) => (current ? addPost(current, post, sort) : current))
          }} />
        )}
        <p data-testid="typing-indicator" aria-live="polite" className="mt-2 min-h-5 text-sm italic text-slate-500 dark:text-slate-400">
          {typing}
        </p>
      </Card>

      <div className="mb-4 flex flex-wrap items-end justify-between gap-4">
        <p className="text-sm text-slate-600 dark:text-slate-400">{list.data ? `${list.data.total} thread${list.data.total === 1 ? '' : 's'}` : ''}</p>
        <div className="w-40">
          <SelectField label="Sort by" value={sort} onChange={(event) => setSort(event.target.value as Sort)}>
            <option value="new">Newest</option>
            <option value="top">Top</option>
            <option value="old">Oldest</option>
          </SelectField>
        </div>
      </div>

      {!list.data ? (
        <Spinner />
      ) : list.data.threads.length === 0 ? (
        <Empty>No posts yet. Start the conversation!</Empty>
      ) : (
        <>
          {list.error && <ErrorMessage error={list.error} onRetry={list.reload} />}
          <ul className="space-y-4">
            {list.data.threads.map((thread) => (
              <Thread
                key={thread.id}
                thread={thread}
                replies={list.data?.replies[thread.id]}
                me={me}
                isManager={isManager}
                blocked={blocked}
                onTyping={onTyping}
                onLoadReplies={loadReplies}
                onReply={reply}
                {...actions}
              />
            ))}
          </ul>
          {list.data.threads.length < list.data.total && (
            <div className="mt-4 text-center">
              <Button variant="secondary" onClick={() => void loadMore()} disabled={loadingMore}>
                {loadingMore ? 'Loading…' : 'Load more threads'}
              </Button>
            </div>
          )}
          {moreError && <ErrorMessage error={moreError} onRetry={() => void loadMore()} />}
        </>
      )}
    </>
  )
}
