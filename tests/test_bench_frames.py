"""The bench's hand-written WebSocket framing agrees with the websockets library both ways: what it builds,
websockets parses; what websockets builds (masked with a random key or not), it finds and unmasks; and a
frame cut anywhere is reported as incomplete, never misread."""

from __future__ import annotations

import pytest
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from bench._wsframe import (
    CLOSE,
    PONG,
    TEXT,
    UpgradeRefused,
    client_control,
    client_frame,
    next_frame,
    read_upgrade,
    server_frame,
    unmask,
)

SIZES = [0, 1, 125, 126, 127, 65535, 65536, 70000]


def parsed_by_websockets(data: bytes, *, masked: bool) -> Frame:
    reader = StreamReader()
    reader.feed_data(data)
    parser = Frame.parse(reader.read_exact, mask=masked)
    try:
        next(parser)
    except StopIteration as done:
        frame: Frame = done.value
        return frame
    raise AssertionError("websockets wanted more bytes than the frame has")


@pytest.mark.parametrize("size", SIZES)
def test_what_the_bench_builds_websockets_reads(size: int) -> None:
    text = "x" * size
    client = parsed_by_websockets(client_frame(text), masked=True)
    assert (client.opcode, client.data, client.fin) == (Opcode.TEXT, text.encode(), True)
    server = parsed_by_websockets(server_frame(text.encode()), masked=False)
    assert (server.opcode, server.data, server.fin) == (Opcode.TEXT, text.encode(), True)
    pong = parsed_by_websockets(client_control(PONG, b"abc"), masked=True)
    assert (pong.opcode, pong.data) == (Opcode.PONG, b"abc")


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("masked", [False, True])
def test_what_websockets_builds_the_bench_finds(size: int, masked: bool) -> None:
    payload = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
    first = Frame(Opcode.TEXT, payload).serialize(mask=masked)
    second = Frame(Opcode.CLOSE, (1000).to_bytes(2, "big")).serialize(mask=masked)
    data = b"junk" + first + second
    found = next_frame(data, 4)
    assert found is not None
    head, start, end = found
    assert head & 0x0F == TEXT and head & 0x80  # FIN
    assert end == 4 + len(first)
    assert (unmask(data, start, end) if masked else data[start:end]) == payload
    close = next_frame(data, end)
    assert close is not None and close[0] & 0x0F == CLOSE and close[2] == len(data)
    assert next_frame(data, len(data)) is None


@pytest.mark.parametrize("size", [0, 125, 126, 65536])
def test_a_frame_cut_anywhere_is_incomplete(size: int) -> None:
    whole = server_frame(b"y" * size)
    cuts = set(range(min(len(whole), 16))) | {len(whole) - 1}
    for cut in cuts:
        assert next_frame(whole[:cut], 0) is None, cut
    assert next_frame(whole, 0) == (0x81, len(whole) - size, len(whole))


def test_the_upgrade_answer_is_read_once_whole_and_refusals_are_named() -> None:
    head = b"HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n"
    frame = server_frame(b"hi")
    assert read_upgrade(head[:-2]) is None  # not whole yet
    upgrade = read_upgrade(head + frame)
    assert upgrade is not None and upgrade.rest == frame and b"permessage-deflate" in upgrade.head
    with pytest.raises(UpgradeRefused, match="403"):
        read_upgrade(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n")
