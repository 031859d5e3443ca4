"""POST /api/upload, and the /media/ mount that serves locally stored files.

The routing decorator parses JSON bodies only, so this route reads its multipart body itself, capped:
a declared Content-Length over the cap is refused before any byte is read, and the bytes actually
received are counted as they stream in, so a chunked or lying request is cut off at the cap too.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urljoin

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.routing import BaseRoute, Mount
from starlette.types import Message, Receive

from app.config import Settings
from app.courses.access import require_not_blocked
from app.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from app.http.meta import request_meta
from app.http.routing import Context, api_route
from app.media import service
from app.media.base import MediaStorageUnavailable
from app.media.local import URL_PREFIX, MediaFiles
from app.media.schemas import MediaPublic
from app.media.storage import storage_for

log = logging.getLogger(__name__)

TAGS = ["media"]
FIELD = "file"
# Room for the multipart framing (boundaries, part headers) around the largest allowed file.
MULTIPART_OVERHEAD_BYTES = 64 * 1024
MAX_TEXT_PART_BYTES = 8 * 1024


@api_route(
    "POST",
    "/api/upload",
    summary="Upload an image or video (instructor, admin); multipart/form-data with one part named `file`",
    tags=TAGS,
    response=MediaPublic,
    status_code=201,
    roles=("instructor", "admin"),
    errors=(400, 401, 403, 413, 415, 422, 503),
    upload_field=FIELD,
)
async def upload(ctx: Context[None, None]) -> MediaPublic:
    """Request body: `multipart/form-data` with one file part named `file` (other parts are ignored).

    The type is decided from the content's magic bytes, never from the filename or the part's
    Content-Type: images `jpg`, `png`, `gif`, `webp` and videos `mp4`, `webm`, `mov` only (415
    otherwise). Size limits per kind come from MEDIA_MAX_IMAGE_BYTES and MEDIA_MAX_VIDEO_BYTES (413).
    Stored on Cloudinary when CLOUDINARY_URL is set (503 when it is unavailable), otherwise on this
    server's disk and served under `/media/`. Blocked accounts may not upload (403).
    """
    require_not_blocked(ctx.user)
    runtime = ctx.runtime
    try:
        storage = storage_for(runtime.settings)
    except ValueError as exc:  # media_routes() already refuses this at start; never a 500 regardless
        log.error("media storage misconfigured", extra={"error": str(exc)})
        raise MediaStorageUnavailable("cloudinary", retry_after=None) from exc
    cap = service.max_upload_bytes(runtime) + MULTIPART_OVERHEAD_BYTES
    async with uploaded_file(ctx.request, cap=cap) as file:
        stored = await service.upload_media(
            runtime, storage=storage, content=file.file, actor_id=ctx.user.user_id, meta=request_meta(ctx)
        )
    return MediaPublic(
        url=urljoin(str(ctx.request.base_url), stored.url),
        public_id=stored.public_id,
        format=stored.format,
        resource_type=stored.resource_type,
        bytes=stored.bytes,
    )


def _missing_file(message: str, kind: str) -> ValidationFailed:
    return ValidationFailed(
        "The request must carry the upload in a multipart part named `file`.",
        details=[{"field": FIELD, "location": "body", "message": message, "type": kind}],
    )


def _too_large(cap: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        "The request body is larger than any allowed upload.",
        details={"max_bytes": cap - MULTIPART_OVERHEAD_BYTES},
    )


def _capped(receive: Receive, cap: int) -> Receive:
    received = 0

    async def capped_receive() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > cap:
                raise _too_large(cap)
        return message

    return capped_receive


@asynccontextmanager
async def uploaded_file(request: Request, *, cap: int) -> AsyncIterator[UploadFile]:
    """The `file` part of a multipart body of at most `cap` bytes; its temporary file is removed after."""
    content_type = request.headers.get("content-type")
    if content_type is None:
        raise _missing_file("Field required", "missing")
    if content_type.split(";")[0].strip().lower() != "multipart/form-data":
        raise UnsupportedMediaType("Send the upload as multipart/form-data.", code="multipart_required")
    length = request.headers.get("content-length")
    if length is not None and length.strip().isdigit() and int(length) > cap:
        raise _too_large(cap)
    capped = Request(request.scope, receive=_capped(request.receive, cap))
    try:
        form = await capped.form(max_files=1, max_fields=16, max_part_size=MAX_TEXT_PART_BYTES)
    except HTTPException as exc:  # Starlette's answer to malformed multipart data
        raise BadRequest(str(exc.detail), code="invalid_multipart") from exc
    except ClientDisconnect as exc:
        raise BadRequest("The client disconnected during the upload.", code="client_disconnected") from exc
    try:
        value = form.get(FIELD)
        if value is None:
            raise _missing_file("Field required", "missing")
        if not isinstance(value, UploadFile):
            raise _missing_file("Must be a file part (with a filename), not a text field", "file_type")
        yield value
    finally:
        await form.close()


def media_routes(settings: Settings) -> list[BaseRoute]:
    """The `/media/` mount serving locally stored uploads. Also checks the media configuration, so a
    malformed CLOUDINARY_URL stops the app at creation rather than failing the first upload."""
    storage_for(settings)
    return [Mount(URL_PREFIX, app=MediaFiles(directory=settings.media_dir, check_dir=False), name="media")]


routes: list[BaseRoute] = [upload]
