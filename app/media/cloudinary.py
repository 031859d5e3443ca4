"""Media on Cloudinary, through the official SDK's signed Upload API.

Configured from CLOUDINARY_URL (`cloudinary://<api_key>:<api_secret>@<cloud_name>?<option>=<value>`,
the SDK's own format; `upload_prefix` in the query moves the API base URL, which the tests point at a
local stand-in). The options are passed on every call rather than written into the SDK's process-wide
`cloudinary.config()`, so two storages (or two test apps) never see each other's credentials.

The SDK is synchronous, so each call runs in a worker thread. Files larger than one chunk go through
`upload_large` (sequential chunks with Content-Range) so a video is never held in memory whole.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, BinaryIO
from urllib.parse import parse_qsl, unquote, urlsplit

import cloudinary.exceptions
import cloudinary.uploader

from app.media.base import MediaRejected, MediaStorageUnavailable, MediaType, StoredMedia

log = logging.getLogger(__name__)

DEFAULT_CHUNK_BYTES = 20_000_000  # the SDK's own upload_large default
DEFAULT_TIMEOUT_SECONDS = 120.0
# Cloudinary answers 400 both for content it cannot process and for request problems of ours (a stale
# timestamp, a bad preset). Only the former is the uploader's fault; anything unrecognised is a 503.
_CONTENT_ERRORS = (
    "invalid image file",
    "invalid video file",
    "unsupported video format",
    "file size too large",
    "empty file",
)


class CloudinaryStorage:
    name = "cloudinary"

    def __init__(
        self,
        url: str,
        *,
        chunk_bytes: int = DEFAULT_CHUNK_BYTES,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self._options = parse_cloudinary_url(url)
        self.cloud_name: str = self._options["cloud_name"]
        self.chunk_bytes = chunk_bytes
        self.timeout_seconds = timeout_seconds

    async def save(self, content: BinaryIO, *, media: MediaType, size: int) -> StoredMedia:
        options: dict[str, Any] = {
            **self._options,
            "resource_type": media.kind,
            # The multipart filename Cloudinary sees; generated, never the client's.
            "filename": f"upload.{media.extension}",
            "timeout": self.timeout_seconds,
        }
        content.seek(0)
        try:
            if size > self.chunk_bytes:
                result = await asyncio.to_thread(
                    cloudinary.uploader.upload_large, content, chunk_size=self.chunk_bytes, **options
                )
            else:
                result = await asyncio.to_thread(cloudinary.uploader.upload, content, **options)
        except cloudinary.exceptions.BadRequest as exc:
            if any(marker in str(exc).lower() for marker in _CONTENT_ERRORS):
                raise MediaRejected(str(exc)) from exc
            log.warning("cloudinary refused the upload request", extra={"reason": str(exc)[:500]})
            raise MediaStorageUnavailable(self.name) from exc
        except (cloudinary.exceptions.AuthorizationRequired, cloudinary.exceptions.NotAllowed) as exc:
            # Our credentials are wrong: retrying will not help until an operator fixes the config.
            log.error("cloudinary refused our credentials", extra={"reason": str(exc)[:500]})
            raise MediaStorageUnavailable(self.name, retry_after=None) from exc
        except (cloudinary.exceptions.Error, OSError) as exc:
            log.warning("cloudinary upload failed", extra={"reason": str(exc)[:500]})
            raise MediaStorageUnavailable(self.name) from exc
        return _stored(result, media, size)


def _stored(result: Any, media: MediaType, size: int) -> StoredMedia:
    if not isinstance(result, dict):
        log.warning("cloudinary answered without a result", extra={"result_type": type(result).__name__})
        raise MediaStorageUnavailable(CloudinaryStorage.name)
    url = result.get("secure_url") or result.get("url")
    public_id = result.get("public_id")
    if not isinstance(url, str) or not isinstance(public_id, str) or not url or not public_id:
        log.warning("cloudinary answered without a url or public_id", extra={"keys": sorted(result)[:20]})
        raise MediaStorageUnavailable(CloudinaryStorage.name)
    stored_bytes = result.get("bytes")
    fmt = result.get("format")
    return StoredMedia(
        url=url,
        public_id=public_id,
        format=fmt if isinstance(fmt, str) and fmt else media.extension,
        resource_type=media.kind,
        bytes=stored_bytes if isinstance(stored_bytes, int) else size,
        storage=CloudinaryStorage.name,
    )


def parse_cloudinary_url(url: str) -> dict[str, str]:
    """The SDK options a CLOUDINARY_URL stands for; ValueError (never echoing the secret) when malformed."""
    shape = "CLOUDINARY_URL must look like cloudinary://<api_key>:<api_secret>@<cloud_name>"
    try:
        parts = urlsplit(url.strip())
        cloud_name = parts.hostname
        api_key, api_secret = parts.username, parts.password
    except ValueError:
        raise ValueError(shape) from None
    if parts.scheme != "cloudinary" or not cloud_name or not api_key or not api_secret:
        raise ValueError(shape)
    options = {key: value for key, value in parse_qsl(parts.query) if value}
    options.update(cloud_name=cloud_name, api_key=unquote(api_key), api_secret=unquote(api_secret))
    return options
