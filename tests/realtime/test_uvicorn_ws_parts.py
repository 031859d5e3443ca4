"""The slim stand-ins realtime.uvicorn_ws gives uvicorn's protocol (receive queue, realtime.flag) and
the parser renewal between frames, without a server."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.server import ServerProtocol

from realtime.flag import Flag
from realtime.uvicorn_ws import RENEW_AFTER_BYTES, Inbox, PreparedWritesProtocol

HANDSHAKE = (
    b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


async def test_inbox_hands_messages_out_in_order_and_waits_for_the_next() -> None:
    inbox = Inbox()
    assert inbox.empty()
    inbox.put_nowait({"type": "websocket.connect"})
    inbox.put_nowait({"type": "websocket.receive", "text": "a"})
    assert not inbox.empty()
    assert await inbox.get() == {"type": "websocket.connect"}
    assert await inbox.get() == {"type": "websocket.receive", "text": "a"}
    assert inbox.empty()
    waiting = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    assert not waiting.done()
    inbox.put_nowait({"type": "websocket.disconnect", "code": 1000})
    assert await asyncio.wait_for(waiting, 1) == {"type": "websocket.disconnect", "code": 1000}


async def test_inbox_survives_a_cancelled_read_and_refuses_a_second_reader() -> None:
    inbox = Inbox()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(inbox.get(), 0.01)
    first = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError):
        await inbox.get()
    inbox.put_nowait({"type": "websocket.receive", "text": "b"})
    assert await asyncio.wait_for(first, 1) == {"type": "websocket.receive", "text": "b"}


async def test_flag_blocks_while_cleared_and_wakes_every_waiter() -> None:
    flag = Flag(True)
    assert flag.is_set() and await flag.wait()
    flag.clear()
    waiters = [asyncio.create_task(flag.wait()) for _ in range(2)]
    cancelled = asyncio.create_task(flag.wait())
    await asyncio.sleep(0)
    cancelled.cancel()
    await asyncio.sleep(0)
    assert not any(w.done() for w in waiters)
    flag.set()
    assert await asyncio.wait_for(asyncio.gather(*waiters), 1) == [True, True]


def text(payload: bytes) -> bytes:
    """A masked client text frame (zero mask key)."""
    return bytes([0x81, 0x80 | len(payload)]) + b"\0\0\0\0" + payload


def parser_locals(conn: ServerProtocol) -> list[Any]:
    values: list[Any] = []
    generator: Any = conn.parser
    while generator is not None and generator.gi_frame is not None:
        values += generator.gi_frame.f_locals.values()
        generator = generator.gi_yieldfrom
    return values


def test_the_parser_is_renewed_only_between_frames_and_keeps_parsing() -> None:
    conn = ServerProtocol()
    conn.receive_data(HANDSHAKE)
    (request,) = conn.events_received()
    conn.send_response(conn.accept(request))
    holder: Any = SimpleNamespace(conn=conn)
    renew = PreparedWritesProtocol.renew_parser
    assert any(isinstance(value, Request) for value in parser_locals(conn))
    assert renew(holder) is True
    assert not any(isinstance(value, Request) for value in parser_locals(conn))

    frame = text(b"hello")
    conn.receive_data(frame[:4])  # half a frame: the parser is inside it
    assert renew(holder) is False
    conn.receive_data(frame[4:])
    assert conn.events_received() == [Frame(Opcode.TEXT, b"hello")]
    assert any(isinstance(value, Frame) for value in parser_locals(conn))
    assert renew(holder) is True
    assert not any(isinstance(value, Frame) for value in parser_locals(conn))
    conn.receive_data(text(b"again"))
    assert conn.events_received() == [Frame(Opcode.TEXT, b"again")]


def test_small_frames_renew_the_parser_once_a_kilobyte_has_arrived_and_a_large_one_at_once() -> None:
    conn = ServerProtocol()
    conn.receive_data(HANDSHAKE)
    (request,) = conn.events_received()
    conn.send_response(conn.accept(request))
    holder: Any = SimpleNamespace(conn=conn, unrenewed_bytes=0)
    holder.renew_parser = lambda: PreparedWritesProtocol.renew_parser(holder)
    after_frames = PreparedWritesProtocol.after_frames
    small = text(b"x" * 100)
    sent = 0
    while sent + len(small) < RENEW_AFTER_BYTES:
        conn.receive_data(small)
        after_frames(holder, len(small))
        sent += len(small)
        assert holder.unrenewed_bytes == sent
        # Not renewed yet: what it holds is no larger than what arrived since it last was.
        assert any(isinstance(value, Request) for value in parser_locals(conn))
    conn.receive_data(small)
    after_frames(holder, len(small))
    assert holder.unrenewed_bytes == 0
    assert not any(isinstance(value, (Request, Frame)) for value in parser_locals(conn))
    large = bytes([0x81, 0xFE]) + (2000).to_bytes(2, "big") + b"\0\0\0\0" + b"y" * 2000
    conn.receive_data(large[:1500])  # inside the frame: counted, not renewed
    after_frames(holder, 1500)
    assert holder.unrenewed_bytes == 1500
    conn.receive_data(large[1500:])
    after_frames(holder, len(large) - 1500)
    assert holder.unrenewed_bytes == 0
    assert not any(isinstance(value, Frame) for value in parser_locals(conn))
    # Parsing went on across the renewals: every frame arrived whole.
    smalls = sent // len(small) + 1
    assert [frame.data for frame in conn.events_received()] == [b"x" * 100] * smalls + [b"y" * 2000]
