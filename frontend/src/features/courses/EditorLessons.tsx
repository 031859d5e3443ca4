// The course's lessons in order: add, edit, delete, and move up/down (PUT …/lessons/order with every id).
import { useState } from 'react'
import { Button, Card, Empty, ErrorMessage, Loaded } from '../../components/ui'
import { useResource } from '../../lib/useResource'
import { LessonEditor } from '../lessons/LessonEditor'
import { deleteLesson, lessonKind, listLessons, reorderLessons, type Lesson } from '../lessons/api'
import { applyOrder, moveId, sortLessons } from './EditorLogic'

type Editing = { mode: 'new' } | { mode: 'edit'; id: string } | null

export function EditorLessons({ courseId }: { courseId: number }) {
  const lessons = useResource((signal) => listLessons(courseId, signal).then(sortLessons), [courseId])
  const [editing, setEditing] = useState<Editing>(null)
  const [busy, setBusy] = useState(false)
  const [actionError, setActionError] = useState<unknown>(null)

  async function act(run: () => Promise<void>) {
    setBusy(true)
    setActionError(null)
    try {
      await run()
    } catch (reason) {
      setActionError(reason)
      lessons.reload() // the server's order and set of lessons are the truth after a failure
    } finally {
      setBusy(false)
    }
  }

  const move = (list: Lesson[], index: number, delta: number) =>
    act(async () => {
      const ids = moveId(
        list.map((lesson) => lesson.id),
        index,
        delta,
      )
      lessons.setData((current) => (current ? applyOrder(current, ids) : current))
      const saved = await reorderLessons(courseId, ids)
      lessons.setData(() => sortLessons(saved))
    })

  const remove = (lesson: Lesson) => {
    if (!window.confirm(`Delete the lesson “${lesson.title}”? Learners lose its progress.`)) return
    void act(async () => {
      await deleteLesson(courseId, lesson.id)
      lessons.setData((current) => current?.filter((item) => item.id !== lesson.id))
    })
  }

  const saved = (lesson: Lesson) => {
    setEditing(null)
    lessons.setData((current) => {
      const others = (current ?? []).filter((item) => item.id !== lesson.id)
      return sortLessons([...others, lesson])
    })
  }

  return (
    <Card>
      <div className="mb-3 flex items-center justify-between gap-2">
        <h2 className="text-lg font-semibold">Lessons</h2>
        <Button variant="secondary" onClick={() => setEditing({ mode: 'new' })} disabled={editing?.mode === 'new'}>
          Add lesson
        </Button>
      </div>
      {actionError !== null && <ErrorMessage error={actionError} />}
      {editing?.mode === 'new' && (
        <div className="mb-4">
          <LessonEditor courseId={courseId} onSaved={saved} onCancel={() => setEditing(null)} />
        </div>
      )}
      <Loaded resource={lessons}>
        {(list) =>
          list.length === 0 ? (
            <Empty>No lessons yet. Add the first one.</Empty>
          ) : (
            <ol className="divide-y divide-slate-200 dark:divide-slate-800">
              {list.map((lesson, index) => (
                <li key={lesson.id} className="py-3" data-testid="editor-lesson" data-lesson-id={lesson.id}>
                  {editing?.mode === 'edit' && editing.id === lesson.id ? (
                    <LessonEditor courseId={courseId} lesson={lesson} onSaved={saved} onCancel={() => setEditing(null)} />
                  ) : (
                    <div className="flex flex-col gap-2 md:flex-row md:items-center">
                      <div className="min-w-0 flex-1">
                        <p className="font-medium">
                          <span className="mr-2 text-slate-500">{index + 1}.</span>
                          {lesson.title}
                        </p>
                        <p className="text-xs text-slate-500 dark:text-slate-400">
                          {lessonKind(lesson, 'Video', 'Text')}
                          {lesson.type === 'video' && lesson.content ? ` · ${lesson.content}` : ''}
                        </p>
                      </div>
                      <div className="flex flex-wrap gap-1">
                        <Button variant="ghost" disabled={busy || index === 0} onClick={() => void move(list, index, -1)} aria-label={`Move ${lesson.title} up`}>
                          ↑
                        </Button>
                        <Button
                          variant="ghost"
                          disabled={busy || index === list.length - 1}
                          onClick={() => void move(list, index, 1)}
                          aria-label={`Move ${lesson.title} down`}
                        >
                          ↓
                        </Button>
                        <Button variant="secondary" disabled={busy} onClick={() => setEditing({ mode: 'edit', id: lesson.id })}>
                          Edit
                        </Button>
                        <Button variant="danger" disabled={busy} onClick={() => remove(lesson)}>
                          Delete
                        </Button>
                      </div>
                    </div>
                  )}
                </li>
              ))}
            </ol>
          )
        }
      </Loaded>
    </Card>
  )
}
