"""Server-to-client WebSocket frames built once and written as bytes to many sockets.

Server frames are unmasked and, without per-message compression, identical for every subscriber, so
a publication's frame is built once and the same bytes go to each socket (README, "Real time").
"""

from __future__ import annotations

import struct
from typing import Protocol

# The key of the capability in the ASGI scope's `extensions`.
PREPARED_WRITES = "realtime.prepared_writes"

_TEXT_FIN = 0x81


def text_frame(text: str) -> bytes:
    """A complete, unmasked, final text frame carrying `text`."""
    payload = text.encode()
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", _TEXT_FIN, length)
    elif length < 65536:
        header = struct.pack("!BBH", _TEXT_FIN, 126, length)
    else:
        header = struct.pack("!BBQ", _TEXT_FIN, 127, length)
    return header + payload


class PreparedWriter(Protocol):
    """Offered by the server for one socket: write ready-made frame bytes straight to its transport."""

    def write_prepared(self, data: bytes) -> bool:
        """Write `data` (whole frames); False, and nothing written, once the socket is closing."""
        ...

    def write_if_writable(self, data: bytes) -> bool:
        """The fan-out's fast path, one call per frame: False (nothing written, queue it) unless the
        transport accepts writes without buffering past its high-water mark and no close frame went
        out; otherwise `data` is written, or dropped if the socket is closing."""
        ...

    async def prepared_drained(self) -> None:
        """Return once the transport is writable again (or the socket is gone)."""
        ...
