// Which player a video lesson needs: an embed for YouTube/Vimeo pages, a <video> for files.

export type VideoSource = { kind: 'embed'; src: string; provider: 'youtube' | 'vimeo' } | { kind: 'file'; src: string } | { kind: 'invalid' }

const YOUTUBE_ID = /^[A-Za-z0-9_-]{6,20}$/

export function videoSource(content: string): VideoSource {
  const raw = content.trim()
  if (raw.startsWith('/media/')) return { kind: 'file', src: raw }
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return { kind: 'invalid' }
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { kind: 'invalid' }
  const host = url.hostname.replace(/^(www\.|m\.)/, '')
  let youtubeId: string | null = null
  if (host === 'youtu.be') youtubeId = url.pathname.slice(1).split('/')[0] ?? null
  else if (host === 'youtube.com' || host === 'youtube-nocookie.com') {
    const [, first, second] = url.pathname.split('/')
    youtubeId = first === 'watch' ? url.searchParams.get('v') : first === 'embed' || first === 'shorts' || first === 'live' ? (second ?? null) : null
  }
  if (youtubeId !== null) {
    return YOUTUBE_ID.test(youtubeId)
      ? { kind: 'embed', provider: 'youtube', src: `https://www.youtube-nocookie.com/embed/${youtubeId}` }
      : { kind: 'invalid' }
  }
  if (host === 'vimeo.com' || host === 'player.vimeo.com') {
    const id = url.pathname.split('/').find((part) => /^\d+$/.test(part))
    return id ? { kind: 'embed', provider: 'vimeo', src: `https://player.vimeo.com/video/${id}` } : { kind: 'invalid' }
  }
  return { kind: 'file', src: url.toString() }
}
