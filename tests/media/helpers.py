"""Uploading through the public API, and reading back what it recorded."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
from sqlalchemy import select

from app.runtime import Runtime
from app.stores.models import AuditLog


async def upload(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    content: bytes,
    *,
    filename: str = "picture.png",
    content_type: str = "image/png",
    field: str = "file",
    data: dict[str, str] | None = None,
) -> httpx.Response:
    return await client.post(
        "/api/upload", headers=headers, files={field: (filename, content, content_type)}, data=data
    )


def multipart(boundary: str, parts: list[tuple[str, str | None, bytes]]) -> bytes:
    """A hand-built multipart body: (field name, filename or None for a text field, content)."""
    body = b""
    for name, filename, content in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n".encode()
        if filename:
            body += b"Content-Type: application/octet-stream\r\n"
        body += b"\r\n" + content + b"\r\n"
    return body + f"--{boundary}--\r\n".encode()


class CountingBody:
    """A streamed request body (no Content-Length) that records how much of it was pulled."""

    def __init__(self, head: bytes, total: int, chunk: int = 64 * 1024) -> None:
        self.head, self.total, self.chunk = head, total, chunk
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.sent < self.total:
            piece = self.head if self.sent == 0 else b"\x00" * min(self.chunk, self.total - self.sent)
            self.sent += len(piece)
            yield piece


async def audit_rows(runtime: Runtime, action: str = "media_uploaded") -> list[AuditLog]:
    async with runtime.db.read() as tx:
        query = select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)
        return list((await tx.execute(query)).scalars())


def error_of(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    assert set(body) == {"error", "detail"}, body
    error: dict[str, Any] = body["error"]
    assert body["detail"] == (error["message"] if response.status_code != 422 else body["detail"])
    return error
