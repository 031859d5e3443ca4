"""Media uploads: the content's real type from its magic bytes, size limits by kind, storage, audit.

What the client says the file is (its name, its part's Content-Type) is never consulted: only images
(JPEG, PNG, GIF, WebP) and videos (MP4, WebM, QuickTime) identified from their first bytes are
accepted, and the stored name's extension is the detected type's.
"""

from __future__ import annotations

import asyncio
import os
from typing import BinaryIO

import filetype

from app.audit.service import record
from app.errors import PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from app.http.meta import RequestMeta
from app.media.base import MediaKind, MediaStorage, MediaType, StoredMedia
from app.runtime import Runtime

SNIFF_BYTES = 8192  # what filetype inspects
ALLOWED: dict[str, MediaType] = {
    media.mime: media
    for media in (
        MediaType("image", "jpg", "image/jpeg"),
        MediaType("image", "png", "image/png"),
        MediaType("image", "gif", "image/gif"),
        MediaType("image", "webp", "image/webp"),
        MediaType("video", "mp4", "video/mp4"),
        MediaType("video", "webm", "video/webm"),
        MediaType("video", "mov", "video/quicktime"),
    )
}
# An animated PNG is a PNG (same signature, extra chunks); filetype names it separately.
ALLOWED["image/apng"] = ALLOWED["image/png"]
ALLOWED_FORMATS = sorted({media.extension for media in ALLOWED.values()})


def detect_media_type(head: bytes) -> MediaType:
    """The type of content starting with `head`, or 415 when it is not an accepted image or video."""
    guess = filetype.guess(head)
    mime = guess.mime if guess is not None else None
    media = ALLOWED.get(mime) if mime else None
    if media is None:
        raise UnsupportedMediaType(
            "Only images (JPEG, PNG, GIF, WebP) and videos (MP4, WebM, MOV) can be uploaded.",
            details={"detected": mime, "allowed": ALLOWED_FORMATS},
        )
    return media


def max_bytes(runtime: Runtime, kind: MediaKind) -> int:
    settings = runtime.settings
    return settings.media_max_image_bytes if kind == "image" else settings.media_max_video_bytes


def max_upload_bytes(runtime: Runtime) -> int:
    """The largest file any kind allows: the cap on how much of a request body is read at all."""
    return max(runtime.settings.media_max_image_bytes, runtime.settings.media_max_video_bytes)


async def upload_media(
    runtime: Runtime,
    *,
    storage: MediaStorage,
    content: BinaryIO,
    actor_id: int,
    meta: RequestMeta,
) -> StoredMedia:
    """Check and store one uploaded file; `content` is a seekable file the caller owns."""
    head, size = await asyncio.to_thread(_inspect, content)
    if size == 0:
        raise ValidationFailed(
            "The file is empty.",
            details=[{"field": "file", "location": "body", "message": "the file is empty", "type": "empty"}],
        )
    media = detect_media_type(head)
    limit = max_bytes(runtime, media.kind)
    if size > limit:
        raise PayloadTooLarge(
            f"The {media.kind} is larger than the {limit} bytes allowed.",
            details={"resource_type": media.kind, "bytes": size, "max_bytes": limit},
        )
    stored = await storage.save(content, media=media, size=size)
    async with runtime.db.transaction() as tx:
        await record(
            tx,
            meta,
            "media_uploaded",
            actor_id=actor_id,
            resource_type="media",
            resource_id=stored.public_id[:64],
            details={
                "public_id": stored.public_id,
                "bytes": stored.bytes,
                "format": stored.format,
                "resource_type": stored.resource_type,
                "storage": stored.storage,
            },
        )
    return stored


def _inspect(content: BinaryIO) -> tuple[bytes, int]:
    content.seek(0)
    head = content.read(SNIFF_BYTES)
    size = content.seek(0, os.SEEK_END)
    content.seek(0)
    return head, size
