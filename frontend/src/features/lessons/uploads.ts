// POST /api/upload (instructors, admins): one multipart part named `file`; the server decides the type
// from the content's magic bytes and answers 413 (too large) or 415 (not an allowed type).
import { ApiError } from '../../lib/api'
import { api } from '../../lib/client'

export { formatBytes, uploadErrorMessage } from '../courses/EditorLogic'

export interface UploadedMedia {
  url: string
  public_id: string
  format: string
  resource_type: 'image' | 'video'
  bytes: number
}

export type MediaKind = 'image' | 'video'

export const ACCEPT: Record<MediaKind, string> = {
  image: 'image/jpeg,image/png,image/gif,image/webp',
  video: 'video/mp4,video/webm,video/quicktime',
}

export async function uploadMedia(file: File, kind: MediaKind): Promise<UploadedMedia> {
  const form = new FormData()
  form.append('file', file)
  const media = await api.request<UploadedMedia>('POST', '/api/upload', { form })
  if (media.resource_type !== kind) {
    // Stored already, but an image cannot be a video lesson (or a video a thumbnail).
    throw new ApiError(415, 'wrong_kind', `That file is ${article(media.resource_type)}, not ${article(kind)}.`)
  }
  return { ...media, url: localMediaPath(media.url) }
}

/** Files stored by this app come back as absolute URLs built from the Host the API saw (behind a proxy,
 * not necessarily the one the browser uses); the app serves them at /media/, which the API also accepts. */
export function localMediaPath(url: string): string {
  try {
    const parsed = new URL(url)
    return parsed.pathname.startsWith('/media/') ? `${parsed.pathname}${parsed.search}` : url
  } catch {
    return url
  }
}

function article(kind: MediaKind): string {
  return kind === 'image' ? 'an image' : 'a video'
}
