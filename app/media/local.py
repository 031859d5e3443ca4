"""Media on local disk under MEDIA_DIR, served by this process under /media/.

Names are `<uuid4 hex>.<extension of the detected type>`: the client's filename is never used, so an
upload cannot pick its path (no traversal) or replace another file. A file is written under a hidden
temporary name and renamed into place, so a URL never serves a half-written file.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shutil
import uuid
from pathlib import Path
from typing import BinaryIO

from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from app.media.base import MediaStorageUnavailable, MediaType, StoredMedia

log = logging.getLogger(__name__)

URL_PREFIX = "/media"
_CHUNK = 1024 * 1024
# Only names this storage generates are served; anything else (temporary files, stray files) is a 404.
SERVED_NAME = re.compile(r"[0-9a-f]{32}\.(?:jpg|png|gif|webp|mp4|webm|mov)")


class LocalStorage:
    name = "local"

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def save(self, content: BinaryIO, *, media: MediaType, size: int) -> StoredMedia:
        public_id = uuid.uuid4().hex
        filename = f"{public_id}.{media.extension}"
        try:
            written = await asyncio.to_thread(self._write, content, filename)
        except OSError as exc:  # disk full, permissions, MEDIA_DIR not a directory...
            log.error(
                "could not store an upload", extra={"directory": str(self.directory), "error": str(exc)}
            )
            raise MediaStorageUnavailable(self.name) from exc
        if written != size:
            # The caller measured the content; a mismatch means it changed underneath us.
            await asyncio.to_thread(self._remove, filename)
            log.error("stored size differs from the measured size", extra={"written": written, "size": size})
            raise MediaStorageUnavailable(self.name)
        return StoredMedia(
            url=f"{URL_PREFIX}/{filename}",
            public_id=public_id,
            format=media.extension,
            resource_type=media.kind,
            bytes=written,
            storage=self.name,
        )

    def _write(self, content: BinaryIO, filename: str) -> int:
        self.directory.mkdir(parents=True, exist_ok=True)
        final = self.directory / filename
        temporary = self.directory / f".{filename}.part"
        content.seek(0)
        try:
            with open(temporary, "xb") as out:
                shutil.copyfileobj(content, out, _CHUNK)
                out.flush()
                os.fsync(out.fileno())
                written = out.tell()
            os.replace(temporary, final)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return written

    def _remove(self, filename: str) -> None:
        (self.directory / filename).unlink(missing_ok=True)


class MediaFiles(StaticFiles):
    """StaticFiles for the media directory, hardened for user-uploaded content.

    * Serves only names LocalStorage generates (flat, no dot-files, no subdirectories).
    * A missing directory (nothing uploaded yet) is a 404, not an error at the first request.
    * `nosniff` and a sandboxing CSP, so even a polyglot file is never run as a page on our origin;
      names are never reused, so responses are cacheable forever.
    """

    async def check_config(self) -> None:
        if self.directory is not None and not await asyncio.to_thread(os.path.isdir, self.directory):
            return
        await super().check_config()

    async def get_response(self, path: str, scope: Scope) -> Response:
        if scope["method"] in ("GET", "HEAD") and not SERVED_NAME.fullmatch(path):
            raise HTTPException(status_code=404)
        return await super().get_response(path, scope)

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response
