"""RFC 6455 framing for the bench's bare asyncio clients and the raw floor server: building frames and
finding the next whole frame in a receive buffer. Hand-written rather than a library's, because the load
generators must cost a few microseconds per frame and never be what limits the server under test.

Client frames are masked with the key 0 (so the payload goes as is); server frames are unmasked.
"""

from __future__ import annotations

from dataclasses import dataclass

TEXT = 0x1
CLOSE = 0x8
PING = 0x9
PONG = 0xA
_FIN = 0x80
_MASKED = 0x80
_ZERO_KEY = b"\x00\x00\x00\x00"


def _header(opcode: int, length: int, mask_bit: int) -> bytes:
    if length < 126:
        return bytes([_FIN | opcode, mask_bit | length])
    if length < 65536:
        return bytes([_FIN | opcode, mask_bit | 126]) + length.to_bytes(2, "big")
    return bytes([_FIN | opcode, mask_bit | 127]) + length.to_bytes(8, "big")


def client_frame(text: str) -> bytes:
    """A masked text frame, as a client sends it."""
    payload = text.encode()
    return _header(TEXT, len(payload), _MASKED) + _ZERO_KEY + payload


def client_control(opcode: int, payload: bytes) -> bytes:
    """A masked control frame (close, pong): `payload` is at most 125 bytes."""
    return _header(opcode, len(payload), _MASKED) + _ZERO_KEY + payload


def server_frame(payload: bytes, opcode: int = TEXT) -> bytes:
    """An unmasked frame, as a server sends it."""
    return _header(opcode, len(payload), 0) + payload


def next_frame(data: bytes, pos: int) -> tuple[int, int, int] | None:
    """The frame starting at `data[pos]`: (its first byte, where its payload starts, where it ends), or
    None when the buffer does not hold all of it yet. A masked frame's payload starts after its key and
    is returned still masked (`unmask`)."""
    size = len(data)
    if pos + 2 > size:
        return None
    second = data[pos + 1]
    length = second & 0x7F
    head = 2
    if length == 126:
        if pos + 4 > size:
            return None
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        head = 4
    elif length == 127:
        if pos + 10 > size:
            return None
        length = int.from_bytes(data[pos + 2 : pos + 10], "big")
        head = 10
    if second & _MASKED:
        head += 4
    end = pos + head + length
    if end > size:
        return None
    return data[pos], pos + head, end


def unmask(data: bytes, start: int, end: int) -> bytes:
    """The payload `data[start:end]` of a masked frame, its key being the four bytes before `start`."""
    key = data[start - 4 : start]
    return bytes(byte ^ key[i % 4] for i, byte in enumerate(data[start:end]))


class UpgradeRefused(Exception):
    """The server answered the upgrade with another status than 101."""


@dataclass(frozen=True)
class Upgrade:
    head: bytes  # the 101 response's status line and headers, lower-cased
    rest: bytes  # what arrived after them: the first frames


def read_upgrade(data: bytes) -> Upgrade | None:
    """The server's answer to an upgrade request at the start of `data`; None while it is incomplete."""
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return None
    status = data[: data.find(b"\r\n")]
    if b" 101 " not in status + b" ":
        raise UpgradeRefused(f"handshake refused: {status.decode(errors='replace')}")
    return Upgrade(data[:end].lower(), data[end + 4 :])
