"""The slim stand-ins realtime.uvicorn_ws gives uvicorn's protocol (receive queue, realtime.flag), the
parser renewal between frames, and the whole text frames it reads without websockets' parser, without a
server."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from uvicorn.config import Config
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState
from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.server import ServerProtocol
from websockets.utils import apply_mask

from realtime import uvicorn_ws
from realtime.flag import Flag
from realtime.uvicorn_ws import RENEW_AFTER_BYTES, Inbox, PreparedWritesProtocol, uvicorn_ws_options

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


# -- whole text frames read without websockets' parser ---------------------------------------------------


class RecordingTransport:
    """What the protocol writes and whether it paused reading: a socket's side of the transport."""

    def __init__(self) -> None:
        self.written = bytearray()
        self.paused = 0
        self.closed = False

    def write(self, data: bytes) -> None:
        self.written += data

    def pause_reading(self) -> None:
        self.paused += 1

    def resume_reading(self) -> None:
        pass

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default


async def _unused_app(scope: Any, receive: Any, send: Any) -> None:
    raise AssertionError("no app runs in these tests")


def opened(kind: type[WebSocketsSansIOProtocol]) -> Any:
    """A protocol of `kind` on a socket whose handshake is done, as after the app accepted it."""
    config = Config(_unused_app, **{**uvicorn_ws_options(), "ws": kind})
    config.load()
    protocol: Any = kind(config, ServerState(), {}, asyncio.get_running_loop())
    protocol.transport = RecordingTransport()
    conn = ServerProtocol(max_size=config.ws_max_size)
    conn.receive_data(HANDSHAKE)
    (request,) = conn.events_received()
    conn.send_response(conn.accept(request))
    conn.data_to_send()
    protocol.conn = conn
    protocol.handshake_complete = True
    return protocol


def queued(protocol: Any) -> list[Any]:
    """The messages waiting for the app, taken out (an Inbox here, uvicorn's asyncio.Queue alone)."""
    queue = protocol.queue
    if isinstance(queue, Inbox):
        items, queue._items = queue._items or [], None
        return items
    return [queue.get_nowait() for _ in range(queue.qsize())]


def masked(opcode: int, payload: bytes, *, fin: bool = True, key: bytes = b"\x11\x22\x33\x44") -> bytes:
    """A client frame as a browser sends it (masked with `key`)."""
    head = bytes([(0x80 if fin else 0) | opcode])
    length = len(payload)
    if length < 126:
        head += bytes([0x80 | length])
    elif length < 1 << 16:
        head += bytes([0x80 | 126]) + length.to_bytes(2, "big")
    else:
        head += bytes([0x80 | 127]) + length.to_bytes(8, "big")
    return head + key + apply_mask(payload, key)


async def test_whole_text_frames_are_queued_in_order_without_the_parser() -> None:
    protocol = opened(PreparedWritesProtocol)
    parser = protocol.conn.parser
    small = '{"op":"ping","id":1}'
    medium = '{"op":"heartbeat","lesson_id":"' + "é" * 150 + '"}'  # a 16-bit length, UTF-8
    protocol.data_received(masked(1, small.encode()) + masked(1, medium.encode()) + masked(1, b""))
    assert queued(protocol) == [
        {"type": "websocket.receive", "text": small},
        {"type": "websocket.receive", "text": medium},
        {"type": "websocket.receive", "text": ""},
    ]
    assert protocol.conn.parser is parser and protocol.unrenewed_bytes == 0
    assert protocol.read_paused and protocol.transport.paused == 1  # as uvicorn: once per read
    assert protocol.transport.written == b""


async def test_a_frame_split_across_reads_goes_to_the_parser_and_the_next_one_comes_back() -> None:
    protocol = opened(PreparedWritesProtocol)
    first, second = masked(1, b'{"op":"ping","id":1}'), masked(1, b'{"op":"ping","id":2}')
    protocol.data_received(first[:5])
    protocol.data_received(first[5:] + second[:3])
    protocol.data_received(second[3:])
    assert [item["text"] for item in queued(protocol)] == ['{"op":"ping","id":1}', '{"op":"ping","id":2}']
    protocol.data_received(masked(1, b"third"))
    assert [item["text"] for item in queued(protocol)] == ["third"]


@pytest.mark.parametrize(
    ("frame", "close_code"),
    [
        (bytes([0x81, 5]) + b"hello", 1002),  # unmasked: a protocol error
        (bytes([0xC1]) + masked(1, b"x")[1:], 1002),  # an RSV bit without an extension
        (masked(1, b"\xff\xfe"), 1007),  # not UTF-8
        (masked(1, b"x" * 70_000), None),  # a 64-bit length: left to the parser, read whole
    ],
)
async def test_frames_it_does_not_read_go_to_websockets_and_end_the_same(
    frame: bytes, close_code: int | None
) -> None:
    ours, theirs = opened(PreparedWritesProtocol), opened(WebSocketsSansIOProtocol)
    for protocol in (ours, theirs):
        protocol.data_received(masked(1, b"before") + frame)
    mine, uvicorns = queued(ours), queued(theirs)
    assert ours.transport.written == theirs.transport.written
    if close_code == 1002:
        # uvicorn alone drops every frame of a read that ends in a protocol error; the frames read here
        # before it were whole and valid, and arrive first.
        assert mine == [{"type": "websocket.receive", "text": "before"}, *uvicorns]
        assert uvicorns[-1]["type"] == "websocket.disconnect"
    else:
        assert mine == uvicorns
    if close_code is not None:
        assert ours.transport.written[2:4] == close_code.to_bytes(2, "big")
        assert ours.transport.closed


async def test_after_its_close_frame_nothing_more_is_queued() -> None:
    protocol = opened(PreparedWritesProtocol)
    protocol.close_sent = True
    protocol.data_received(masked(1, b"late"))
    assert queued(protocol) == []


@pytest.mark.parametrize("unmask", ["C extension", "pure Python"])
async def test_any_mix_of_frames_cut_anywhere_queues_and_writes_what_uvicorn_alone_does(
    unmask: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Parity with the protocol it extends: whatever the frames and wherever the reads cut them, with
    websockets' C unmasking or its pure-Python one (a build without the extension)."""
    import random

    if unmask == "pure Python":
        monkeypatch.setattr(uvicorn_ws, "apply_mask", apply_mask)

    rng = random.Random(20261205)
    kinds = [
        lambda: masked(1, rng.choice(["{}", '{"op":"ping","id":7}', "ü" * rng.randrange(40, 200)]).encode()),
        lambda: masked(2, rng.randbytes(rng.randrange(0, 30))),  # binary
        lambda: masked(9, b"hi"),  # ping: answered with a pong
        lambda: masked(10, b""),  # unsolicited pong
        lambda: masked(1, b"part one ", fin=False) + masked(0, b"and two"),  # fragmented text
        lambda: masked(1, b"x" * rng.randrange(126, 1000)),
    ]
    for _ in range(200):
        stream = b"".join(rng.choice(kinds)() for _ in range(rng.randrange(1, 12)))
        cuts = sorted(rng.sample(range(1, len(stream)), k=min(len(stream) - 1, rng.randrange(0, 6))))
        reads = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
        ours, theirs = opened(PreparedWritesProtocol), opened(WebSocketsSansIOProtocol)
        for protocol in (ours, theirs):
            for data in reads:
                protocol.data_received(data)
        assert queued(ours) == queued(theirs)
        assert ours.transport.written == theirs.transport.written
        assert ours.read_paused == theirs.read_paused
