"""The wire protocol of /ws (docs/PRODUCT.md, "WebSocket protocol"): JSON text frames, one object per frame.

Client → server: {"op": ..., "id"?: ...} with ops auth, subscribe, unsubscribe, ping, presence,
typing, refresh, plus application ops registered by the app (e.g. heartbeat).
Server → client: replies {"id", "ok": true, ...} / {"id", "ok": false, "error": {code, message}},
publications {"channel", "offset", "epoch", "event", "data"}, presence diffs
{"channel", "event": "presence", "joins", "leaves"}, and control frames {"event": "ping"} and
{"channel", "event": "unsubscribed", "reason"}.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from enum import IntEnum
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Any


class CloseCode(IntEnum):
    """Every close code the hub uses; the README shows the same table."""

    NORMAL = 1000
    GOING_AWAY = 1001  # the server is shutting down
    FRAME_TOO_LARGE = 1009  # a client frame over the size limit
    INTERNAL_ERROR = 1011
    TRY_AGAIN_LATER = 1013  # the hub is full (a server without HTTP denial responses closes with it)
    UNAUTHORIZED = 4001  # no valid `auth` frame within the deadline, or the token was refused
    FORBIDDEN = 4003  # the account was deactivated (or the session revoked) while connected
    SLOW_CONSUMER = 4008  # the outgoing queue overflowed: the client did not keep up
    TOKEN_EXPIRED = 4009  # the access token expired without a `refresh`
    TOO_MANY_CONNECTIONS = 4010  # the user already has the maximum number of connections
    RATE_LIMITED = 4029  # the client kept sending frames faster than allowed after warnings


CLOSE_REASONS: dict[CloseCode, str] = {
    CloseCode.NORMAL: "normal closure",
    CloseCode.GOING_AWAY: "server shutting down",
    CloseCode.FRAME_TOO_LARGE: "frame too large",
    CloseCode.INTERNAL_ERROR: "internal error",
    CloseCode.TRY_AGAIN_LATER: "try again later",
    CloseCode.UNAUTHORIZED: "unauthorized",
    CloseCode.FORBIDDEN: "forbidden",
    CloseCode.SLOW_CONSUMER: "slow consumer",
    CloseCode.TOKEN_EXPIRED: "token expired",
    CloseCode.TOO_MANY_CONNECTIONS: "too many connections",
    CloseCode.RATE_LIMITED: "rate limited",
}

MAX_ID_LENGTH = 64
MAX_CHANNEL_LENGTH = 128


class ProtocolError(Exception):
    """A frame the hub answers with an error reply (the connection stays open)."""

    def __init__(self, code: str, message: str, frame_id: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.frame_id = frame_id


# Made for every frame: slotted and not frozen, as a frozen dataclass's __init__ costs about three times as
# much (it sets each field through object.__setattr__). Nothing changes a frame after parsing.
@dataclass(slots=True)
class ClientFrame:
    op: str
    id: str | int | None
    body: dict[str, Any]

    def text(self, name: str, *, required: bool = True, max_length: int = 4096) -> str | None:
        value = self.body.get(name)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value or len(value) > max_length:
            raise ProtocolError("invalid_frame", f"`{name}` must be a non-empty string", self.id)
        return value

    def channel(self) -> str:
        channel = self.text("channel", max_length=MAX_CHANNEL_LENGTH)
        assert channel is not None
        return channel


def parse_frame(raw: str) -> ClientFrame:
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested thousands deep
        raise ProtocolError("invalid_json", "frames must be JSON objects") from exc
    if not isinstance(data, dict):
        raise ProtocolError("invalid_frame", "frames must be JSON objects")
    frame_id = data.get("id")
    if frame_id is not None and not (
        (isinstance(frame_id, str) and len(frame_id) <= MAX_ID_LENGTH)
        or (isinstance(frame_id, int) and not isinstance(frame_id, bool) and abs(frame_id) < 2**53)
    ):
        raise ProtocolError("invalid_frame", "`id` must be a short string or an integer")
    op = data.get("op")
    if not isinstance(op, str) or not op or len(op) > 32:
        raise ProtocolError("invalid_frame", "`op` must be a string", frame_id)
    return ClientFrame(op=op, id=frame_id, body=data)


# One encoder for every frame: `json.dumps` with options builds a new encoder per call.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
# ...and `JSONEncoder.encode` builds its C encoder anew on every call, which is about half of what encoding a
# reply costs (every frame gets one); this is the same C encoder with the same options, built once. It
# keeps no circular-reference markers between calls (a shared set would be left dirty by a failed call):
# frames are built from decoded JSON and plain values, and a cycle would end in RecursionError instead of
# ValueError. Where the C accelerator is missing, the Python encoder does the work.
_encode_chunks = (
    c_make_encoder(None, _ENCODER.default, encode_basestring, None, ":", ",", False, False, True)
    if c_make_encoder is not None
    else None
)


def dumps(value: Any) -> str:
    if _encode_chunks is None:
        return _ENCODER.encode(value)
    return "".join(_encode_chunks(value, 0))


def reply(frame_id: Any, **fields: Any) -> str:
    return dumps({"id": frame_id, "ok": True, **fields})


def error_reply(frame_id: Any, code: str, message: str) -> str:
    return f'{{"id":{dumps(frame_id)},"ok":false,"error":{_error_body(code, message)}}}'


# A few error bodies recur (an overloaded api sends one to every heartbeat it refuses): each is encoded once.
@functools.lru_cache(maxsize=128)
def _error_body(code: str, message: str) -> str:
    return dumps({"code": code, "message": message})


def publication_fragment(event: str, data: Any) -> str:
    """The tail of a publication frame; history prepends channel, offset and epoch (encoded once)."""
    return dumps({"event": event, "data": data})[1:]


def publication_frame(channel: str, offset: int, epoch: str, fragment: str) -> str:
    return f'{{"channel":{dumps(channel)},"offset":{offset},"epoch":{dumps(epoch)},{fragment}'


def control_frame(channel: str | None, event: str, **fields: Any) -> str:
    body: dict[str, Any] = {"event": event, **fields}
    if channel is not None:
        body = {"channel": channel, **body}
    return dumps(body)
