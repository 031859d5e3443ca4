import { describe, expect, it } from 'vitest'
import { attachmentName, filterQuery, mergeCsvPages, pageInfo } from './paging'

describe('pageInfo', () => {
  it('describes the first of several pages', () => {
    expect(pageInfo(45, 0, 20, 20)).toMatchObject({ page: 1, pages: 3, from: 1, to: 20, hasPrev: false, hasNext: true, nextSkip: 20, lastSkip: 40 })
  })

  it('describes the last, partial page', () => {
    expect(pageInfo(45, 40, 20, 5)).toMatchObject({ page: 3, pages: 3, from: 41, to: 45, hasPrev: true, hasNext: false, prevSkip: 20 })
  })

  it('handles an empty result', () => {
    expect(pageInfo(0, 0, 25, 0)).toMatchObject({ page: 1, pages: 1, from: 0, to: 0, hasPrev: false, hasNext: false, lastSkip: 0 })
  })

  it('never steps before the start', () => {
    expect(pageInfo(100, 10, 25, 25).prevSkip).toBe(0)
  })

  it('clamps a skip past the end to the last page number', () => {
    expect(pageInfo(10, 50, 10, 0)).toMatchObject({ page: 1, pages: 1, from: 0, hasNext: false, hasPrev: true })
  })
})

describe('filterQuery', () => {
  it('trims values and leaves out empty ones', () => {
    expect(filterQuery({ search: '  ada ', role: '', level: '   ', is_published: 'true' })).toEqual({ search: 'ada', is_published: 'true' })
  })
})

describe('attachmentName', () => {
  it('reads a quoted filename', () => {
    expect(attachmentName('attachment; filename="learnflow-courses-20261125-153250.csv"', 'x.csv')).toBe('learnflow-courses-20261125-153250.csv')
  })

  it('prefers the RFC 5987 filename*', () => {
    expect(attachmentName("attachment; filename=\"a.csv\"; filename*=UTF-8''r%C3%A9sum%C3%A9.csv", 'x.csv')).toBe('résumé.csv')
  })

  it('reads an unquoted filename and strips path separators', () => {
    expect(attachmentName('attachment; filename=../etc/passwd', 'x.csv')).toBe('.._etc_passwd')
  })

  it('falls back without a header or a name', () => {
    expect(attachmentName(null, 'report.csv')).toBe('report.csv')
    expect(attachmentName('attachment', 'report.csv')).toBe('report.csv')
  })
})

describe('mergeCsvPages', () => {
  it('keeps one header row', () => {
    expect(mergeCsvPages(['id,name\r\n1,a\r\n2,b\r\n', 'id,name\r\n3,c\r\n'])).toBe('id,name\r\n1,a\r\n2,b\r\n3,c\r\n')
  })

  it('returns a single page as it is', () => {
    expect(mergeCsvPages(['id\n1\n'])).toBe('id\n1\n')
  })

  it('drops a BOM and header-only pages, and keeps quoted newlines of later rows', () => {
    const merged = mergeCsvPages(['\uFEFFid,details\n1,x', '\uFEFFid,details\n2,"multi\nline"\n', 'id,details\n'])
    expect(merged).toBe('\uFEFFid,details\n1,x\r\n2,"multi\nline"\n')
  })

  it('gives nothing for no pages', () => {
    expect(mergeCsvPages([])).toBe('')
  })
})
