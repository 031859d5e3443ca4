import { describe, expect, it } from 'vitest'
import { ApiError } from '../../lib/api'
import type { Lesson } from '../lessons/api'
import {
  applyOrder,
  courseBody,
  courseFormValues,
  formatBytes,
  lessonBody,
  lessonFormValues,
  moveId,
  sortLessons,
  uploadErrorMessage,
} from './EditorLogic'

function lesson(id: string, order: number, created = '2026-01-01T00:00:00Z'): Lesson {
  return {
    id,
    course_id: 1,
    title: id,
    type: 'text',
    duration: '5 min',
    duration_minutes: 5,
    content: '<p>x</p>',
    notes: null,
    order,
    created_at: created,
    updated_at: created,
  }
}

describe('moveId', () => {
  it('moves up and down', () => {
    expect(moveId(['a', 'b', 'c'], 1, -1)).toEqual(['b', 'a', 'c'])
    expect(moveId(['a', 'b', 'c'], 1, 1)).toEqual(['a', 'c', 'b'])
  })

  it('leaves the list alone at the edges', () => {
    const ids = ['a', 'b']
    expect(moveId(ids, 0, -1)).toBe(ids)
    expect(moveId(ids, 1, 1)).toBe(ids)
    expect(moveId(ids, 5, -1)).toBe(ids)
  })
})

describe('sortLessons / applyOrder', () => {
  it('sorts by order then creation', () => {
    const sorted = sortLessons([lesson('b', 1), lesson('c', 0, '2026-02-01T00:00:00Z'), lesson('a', 0)])
    expect(sorted.map((l) => l.id)).toEqual(['a', 'c', 'b'])
  })

  it('renumbers to follow the ids and drops unknown ones', () => {
    const reordered = applyOrder([lesson('a', 0), lesson('b', 1)], ['b', 'x', 'a'])
    expect(reordered.map((l) => [l.id, l.order])).toEqual([
      ['b', 0],
      ['a', 1],
    ])
  })
})

describe('form bodies', () => {
  it('trims the course and sends an empty thumbnail as "" (which removes it)', () => {
    const values = { ...courseFormValues(), title: '  Rust  ', category: ' Programming ', thumbnail_url: '  ' }
    expect(courseBody(values)).toEqual({
      title: 'Rust',
      description: '',
      category: 'Programming',
      level: 'Beginner',
      duration: '',
      thumbnail_url: '',
    })
  })

  it('keeps a thumbnail URL', () => {
    expect(courseBody({ ...courseFormValues(), thumbnail_url: '/media/a.png' }).thumbnail_url).toBe('/media/a.png')
  })

  it('sends the duration as written and empty notes as null', () => {
    const body = lessonBody({ ...lessonFormValues(), title: ' Intro ', content: ' https://v/1.mp4 ', duration: ' 15:30 ' })
    expect(body).toEqual({ title: 'Intro', type: 'video', duration: '15:30', content: 'https://v/1.mp4', notes: null })
    expect(lessonBody({ ...lessonFormValues(), duration: '10 min' }).duration).toBe('10 min')
  })

  it('starts an edit from the lesson as the server describes it', () => {
    expect(lessonFormValues(lesson('a', 0))).toEqual({ title: 'a', type: 'text', duration: '5 min', content: '<p>x</p>', notes: '' })
  })

  it('asks to clear content or notes that an edit emptied, and only those', () => {
    const original = { ...lesson('a', 0), notes: '<p>n</p>' }
    const values = lessonFormValues(original)
    expect(lessonBody(values, original).clear).toBeUndefined()
    expect(lessonBody({ ...values, notes: '  ' }, original).clear).toEqual(['notes'])
    expect(lessonBody({ ...values, content: '', notes: '' }, original).clear).toEqual(['content', 'notes'])
    // A new lesson has nothing to clear.
    expect(lessonBody({ ...values, content: '', notes: '' }).clear).toBeUndefined()
  })

  it('keeps text lesson HTML untouched', () => {
    const values = { ...lessonFormValues(lesson('a', 0)), content: ' <p>hi</p> ' }
    expect(lessonBody(values).content).toBe(' <p>hi</p> ')
  })
})

describe('uploadErrorMessage', () => {
  it('states the limit of a 413', () => {
    const error = new ApiError(413, 'payload_too_large', 'big', { resource_type: 'image', bytes: 1, max_bytes: 10 * 1024 * 1024 })
    expect(uploadErrorMessage(error)).toBe('The file is too large. The limit is 10.0 MB.')
    expect(uploadErrorMessage(new ApiError(413, 'http_413', 'Payload Too Large'))).toBe('The file is too large.')
  })

  it('passes the 415 message through and names the file field of a 422', () => {
    expect(uploadErrorMessage(new ApiError(415, 'unsupported_media_type', 'Only images…'))).toBe('Only images…')
    const missing = new ApiError(422, 'validation_error', 'invalid', [{ field: 'file', message: 'the file is empty' }])
    expect(uploadErrorMessage(missing)).toBe('the file is empty')
  })

  it('formats sizes', () => {
    expect(formatBytes(512)).toBe('512 B')
    expect(formatBytes(2048)).toBe('2 KB')
  })
})
