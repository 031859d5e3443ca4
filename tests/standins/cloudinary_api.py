"""A stand-in for Cloudinary's Upload API and delivery URLs, served by uvicorn on 127.0.0.1.

It speaks the parts of the protocol the app uses, as Cloudinary documents them:

* ``POST /v1_1/{cloud}/{resource_type}/upload``  a signed upload (multipart form): checks the cloud name,
  the ``api_key`` and the ``signature`` (SHA-1 — or SHA-256, told apart by length — of the sorted
  ``key=value`` parameters joined with ``&`` followed by the API secret; ``file``, ``api_key``,
  ``resource_type``, ``cloud_name`` and ``signature`` itself are not signed; signature version 2 escapes
  ``&`` in values as ``%26``), refuses timestamps more than an hour off, identifies the content itself
  (``Invalid image file`` when an image upload is not an image), and answers with Cloudinary's JSON
  shape. Chunked uploads (``upload_large``: ``Content-Range`` + ``X-Unique-Upload-Id``) are assembled.
* ``GET /{cloud}/{resource_type}/upload/v{version}/{public_id}.{format}``  delivers what was uploaded.

Errors use Cloudinary's shape ``{"error": {"message": ...}}`` and status codes (401 for credentials).
Tests read back what arrived (``uploads``) and can make the next requests fail (``fail_status``).
"""

from __future__ import annotations

import hashlib
import hmac
import mimetypes
import re
import secrets
import string
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import filetype
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.standins.server import serving

UPLOAD_PATH = "/v1_1/{cloud}/{resource_type}/upload"
DELIVERY_PATH = "/{cloud}/{resource_type}/upload/v{version:int}/{name}"
UNSIGNED = frozenset({"file", "api_key", "resource_type", "cloud_name", "signature"})
STALE_AFTER_SECONDS = 3600
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")
_ID_ALPHABET = string.ascii_lowercase + string.digits


def string_to_sign(params: dict[str, str], signature_version: int = 2) -> str:
    pairs = []
    for key, value in params.items():
        if key in UNSIGNED or not value:
            continue
        pair = f"{key}={value}"
        pairs.append(pair.replace("&", "%26") if signature_version >= 2 else pair)
    return "&".join(sorted(pairs))


def sign(params: dict[str, str], api_secret: str, algorithm: str = "sha1") -> str:
    return hashlib.new(algorithm, (string_to_sign(params) + api_secret).encode()).hexdigest()


@dataclass
class ReceivedUpload:
    cloud: str
    resource_type: str
    params: dict[str, str]
    filename: str | None
    size: int
    headers: dict[str, str]


@dataclass
class Asset:
    public_id: str
    version: int
    format: str
    resource_type: str
    data: bytes


@dataclass
class _Chunks:
    total: int
    public_id: str
    data: bytearray
    received: int = 0


@dataclass
class CloudinaryApi:
    """The service's state. Everything is guarded by a lock: the server runs in its own thread."""

    cloud_name: str
    api_key: str
    api_secret: str
    base_url: str = ""
    uploads: list[ReceivedUpload] = field(default_factory=list)
    assets: dict[tuple[str, str], Asset] = field(default_factory=dict)
    fail_status: int | None = None
    _chunks: dict[str, _Chunks] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- what tests use ---------------------------------------------------------------------------------

    def cloudinary_url(self, *, api_key: str | None = None, api_secret: str | None = None) -> str:
        """A CLOUDINARY_URL for the app that points the SDK at this stand-in."""
        key = api_key if api_key is not None else self.api_key
        secret = api_secret if api_secret is not None else self.api_secret
        return f"cloudinary://{key}:{secret}@{self.cloud_name}?upload_prefix={self.base_url}"

    def asset_for_url(self, url: str) -> Asset | None:
        prefix = f"{self.base_url}/{self.cloud_name}/"
        if not url.startswith(prefix):
            return None
        match = re.fullmatch(r"(\w+)/upload/v\d+/(.+)\.(\w+)", url[len(prefix) :])
        if match is None:
            return None
        with self._lock:
            return self.assets.get((match[1], match[2]))

    def reset(self) -> None:
        with self._lock:
            self.uploads.clear()
            self.assets.clear()
            self._chunks.clear()
            self.fail_status = None

    # -- the HTTP side ----------------------------------------------------------------------------------

    @staticmethod
    def _error(message: str, status: int) -> JSONResponse:
        return JSONResponse({"error": {"message": message}}, status_code=status)

    async def upload(self, request: Request) -> Response:
        cloud = request.path_params["cloud"]
        resource_type = request.path_params["resource_type"]
        async with request.form(max_part_size=64 * 1024 * 1024) as form:
            params: dict[str, str] = {}
            file: UploadFile | None = None
            for key, value in form.multi_items():
                if isinstance(value, UploadFile):
                    file = value if key == "file" else file
                else:
                    params[key] = value
            data = await file.read() if file is not None else b""
            filename = file.filename if file is not None else None
        with self._lock:
            self.uploads.append(
                ReceivedUpload(
                    cloud,
                    resource_type,
                    dict(params),
                    filename,
                    len(data),
                    {k.lower(): v for k, v in request.headers.items()},
                )
            )
            failing = self.fail_status
        if failing is not None:
            return self._error("General Error", failing)
        refusal = self._check_signed_request(cloud, resource_type, params)
        if refusal is not None:
            return refusal
        if file is None or not data:
            return self._error("Missing required parameter - file", 400)

        content_range = request.headers.get("content-range")
        if content_range:
            return self._chunk(request, content_range, params, data, resource_type)
        return self._finish(resource_type, params.get("public_id") or _new_public_id(), data, filename)

    def _check_signed_request(
        self, cloud: str, resource_type: str, params: dict[str, str]
    ) -> Response | None:
        if cloud != self.cloud_name:
            return self._error(f"Invalid cloud_name {cloud}", 401)
        if resource_type not in ("image", "video", "raw", "auto"):
            return self._error(f"Invalid resource type {resource_type}", 400)
        if not hmac.compare_digest(params.get("api_key", ""), self.api_key):
            return self._error(f"Unknown API key {params.get('api_key', '')}", 401)
        timestamp = params.get("timestamp", "")
        if not timestamp.isdigit():
            return self._error("Missing required parameter - timestamp", 400)
        if abs(time.time() - int(timestamp)) > STALE_AFTER_SECONDS:
            return self._error(f"Stale request - reported time is {timestamp} which is out of range", 400)
        signature = params.get("signature", "")
        algorithm = "sha256" if len(signature) == 64 else "sha1"
        expected = sign(params, self.api_secret, algorithm)
        if not hmac.compare_digest(signature, expected):
            return self._error(
                f"Invalid Signature {signature}. String to sign - '{string_to_sign(params)}'.", 401
            )
        return None

    def _chunk(
        self, request: Request, content_range: str, params: dict[str, str], data: bytes, resource_type: str
    ) -> Response:
        match = _CONTENT_RANGE.fullmatch(content_range.strip())
        upload_id = request.headers.get("x-unique-upload-id", "")
        if match is None or not upload_id:
            return self._error("Invalid Content-Range or missing X-Unique-Upload-Id", 400)
        start, end, total = (int(part) for part in match.groups())
        if end - start + 1 != len(data) or end >= total:
            return self._error("Content-Range does not match the chunk", 400)
        with self._lock:
            chunks = self._chunks.setdefault(
                upload_id,
                _Chunks(total, params.get("public_id") or _new_public_id(), bytearray(total)),
            )
            chunks.data[start : end + 1] = data
            chunks.received += len(data)
            done = chunks.received >= chunks.total
            if done:
                del self._chunks[upload_id]
        if not done:
            return JSONResponse({"done": False, "public_id": chunks.public_id, "bytes": chunks.received})
        return self._finish(resource_type, chunks.public_id, bytes(chunks.data), None)

    def _finish(self, resource_type: str, public_id: str, data: bytes, filename: str | None) -> Response:
        kind = filetype.guess(data[:8192])
        if resource_type in ("image", "auto") and kind is not None and kind.mime.startswith("image/"):
            resource_type = "image"
        elif resource_type in ("video", "auto") and kind is not None and kind.mime.startswith("video/"):
            resource_type = "video"
        elif resource_type == "image":
            return self._error("Invalid image file", 400)
        elif resource_type == "video":
            return self._error("Unsupported video format or file", 400)
        else:
            resource_type = "raw"
        fmt = {"jpeg": "jpg", "quicktime": "mov", "apng": "png"}.get(
            kind.mime.split("/")[1] if kind else "", kind.extension if kind else ""
        )
        version = int(time.time())
        path = f"{self.cloud_name}/{resource_type}/upload/v{version}/{public_id}" + (f".{fmt}" if fmt else "")
        with self._lock:
            self.assets[(resource_type, public_id)] = Asset(public_id, version, fmt, resource_type, data)
        result: dict[str, Any] = {
            "asset_id": secrets.token_hex(16),
            "public_id": public_id,
            "version": version,
            "version_id": secrets.token_hex(16),
            "signature": hashlib.sha1(
                f"public_id={public_id}&version={version}{self.api_secret}".encode()
            ).hexdigest(),
            "format": fmt,
            "resource_type": resource_type,
            "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "tags": [],
            "bytes": len(data),
            "type": "upload",
            "etag": hashlib.md5(data).hexdigest(),
            "placeholder": False,
            "url": f"{self.base_url}/{path}",
            "secure_url": f"{self.base_url}/{path}",
            "asset_folder": "",
            "display_name": public_id,
            "original_filename": (filename or "file").rsplit(".", 1)[0],
            "api_key": self.api_key,
        }
        return JSONResponse(result)

    async def deliver(self, request: Request) -> Response:
        if request.path_params["cloud"] != self.cloud_name:
            return Response(status_code=404)
        public_id, _, fmt = request.path_params["name"].rpartition(".")
        with self._lock:
            asset = self.assets.get((request.path_params["resource_type"], public_id))
        if asset is None or asset.format != fmt or asset.version != request.path_params["version"]:
            return Response(status_code=404)
        media_type = mimetypes.guess_type(f"x.{fmt}")[0] or "application/octet-stream"
        return Response(asset.data, media_type=media_type)

    def asgi_app(self) -> Starlette:
        return Starlette(
            routes=[
                Route(UPLOAD_PATH, self.upload, methods=["POST"]),
                Route(DELIVERY_PATH, self.deliver, methods=["GET"]),
            ]
        )


def _new_public_id() -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(20))


@contextmanager
def running_cloudinary_api(
    *, cloud_name: str, api_key: str, api_secret: str, startup_timeout: float = 10.0
) -> Iterator[CloudinaryApi]:
    """Serve a `CloudinaryApi` with uvicorn on a free loopback port in a background thread."""
    api = CloudinaryApi(cloud_name=cloud_name, api_key=api_key, api_secret=api_secret)

    def app_for(base_url: str) -> Any:
        api.base_url = base_url
        return api.asgi_app()

    with serving(app_for, name="Cloudinary stand-in", startup_timeout=startup_timeout):
        yield api
