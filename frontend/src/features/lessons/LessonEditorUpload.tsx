// A labelled file picker that uploads at once through POST /api/upload and hands back the stored URL.
import { useId, useState } from 'react'
import { ACCEPT, formatBytes, uploadErrorMessage, uploadMedia, type MediaKind, type UploadedMedia } from './uploads'

interface Props {
  kind: MediaKind
  label: string
  onUploaded(media: UploadedMedia): void
  disabled?: boolean
}

export function LessonEditorUpload({ kind, label, onUploaded, disabled }: Props) {
  const id = useId()
  const [pending, setPending] = useState<File | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [done, setDone] = useState<string | null>(null)

  async function upload(file: File) {
    setPending(file)
    setError(null)
    setDone(null)
    try {
      const media = await uploadMedia(file, kind)
      setDone(`Uploaded ${file.name} (${formatBytes(media.bytes)}).`)
      onUploaded(media)
    } catch (reason) {
      setError(uploadErrorMessage(reason))
    } finally {
      setPending(null)
    }
  }

  return (
    <div>
      <label htmlFor={id} className="block text-sm font-medium">
        {label}
      </label>
      <input
        id={id}
        type="file"
        accept={ACCEPT[kind]}
        disabled={disabled || pending !== null}
        aria-describedby={`${id}-status`}
        aria-invalid={Boolean(error)}
        className="mt-1 block w-full text-sm file:mr-3 file:rounded-md file:border-0 file:bg-slate-100 file:px-3 file:py-2 file:text-sm file:font-medium hover:file:bg-slate-200 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:file:bg-slate-800 dark:file:text-slate-100"
        onChange={(event) => {
          const file = event.target.files?.[0]
          event.target.value = '' // choosing the same file again retries
          if (file) void upload(file)
        }}
      />
      <div id={`${id}-status`} aria-live="polite" className="mt-1 text-xs">
        {pending && (
          <span className="flex items-center gap-2 text-slate-600 dark:text-slate-300" data-testid="upload-pending">
            <span className="h-3 w-3 animate-spin rounded-full border-2 border-slate-300 border-t-indigo-600" aria-hidden />
            Uploading {pending.name} ({formatBytes(pending.size)})…
          </span>
        )}
        {error && (
          <span role="alert" className="text-rose-600 dark:text-rose-400" data-testid="upload-error">
            Upload failed: {error}
          </span>
        )}
        {done && !pending && !error && <span className="text-emerald-700 dark:text-emerald-400">{done}</span>}
        {!pending && !error && !done && (
          <span className="text-slate-500 dark:text-slate-400">
            {kind === 'image' ? 'JPEG, PNG, GIF or WebP.' : 'MP4, WebM or MOV.'}
          </span>
        )}
      </div>
    </div>
  )
}
