import { describe, expect, it } from 'vitest'
import { videoSource } from './media'

describe('videoSource', () => {
  it('plays uploaded media and direct files in a video element', () => {
    expect(videoSource('/media/abc.mp4')).toEqual({ kind: 'file', src: '/media/abc.mp4' })
    expect(videoSource('https://videos.example.com/1/1.mp4')).toEqual({ kind: 'file', src: 'https://videos.example.com/1/1.mp4' })
  })

  it('embeds YouTube in its privacy-enhanced player', () => {
    const embed = { kind: 'embed', provider: 'youtube', src: 'https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ' }
    expect(videoSource('https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=10')).toEqual(embed)
    expect(videoSource('https://youtu.be/dQw4w9WgXcQ')).toEqual(embed)
    expect(videoSource('https://youtube.com/embed/dQw4w9WgXcQ')).toEqual(embed)
    expect(videoSource('https://www.youtube.com/watch?v=bad"id')).toEqual({ kind: 'invalid' })
  })

  it('embeds Vimeo', () => {
    expect(videoSource('https://vimeo.com/123456')).toEqual({ kind: 'embed', provider: 'vimeo', src: 'https://player.vimeo.com/video/123456' })
  })

  it('refuses other schemes', () => {
    expect(videoSource('javascript:alert(1)')).toEqual({ kind: 'invalid' })
    expect(videoSource('not a url')).toEqual({ kind: 'invalid' })
  })
})
