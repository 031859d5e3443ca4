"""Malformed /ws frames, each built with the answer the README's "Real time" section promises for it.

A probe's expectation is fixed when it is generated, from what was broken on purpose: the oracle is the
documented protocol (error reply codes, close codes), not the server's code.
"""

from __future__ import annotations

import json
import random
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from app.telemetry.schemas import HeartbeatIn
from tests.http.test_errors_and_limits import claims_for, forge

BUILTIN_OPS = ("auth", "subscribe", "unsubscribe", "ping", "presence", "typing", "refresh")
KNOWN_OPS = (*BUILTIN_OPS, "heartbeat")
# Values that are not a non-empty string of at most `limit` characters.
NOT_A_STRING: tuple[Any, ...] = (None, 0, 7, -1, 1.5, True, False, [], ["x"], {}, {"a": 1})
# Values an `id` may not take (a string of at most 64 characters or an integer below 2**53).
BAD_IDS: tuple[Any, ...] = (True, False, 1.5, [], [1], {}, {"id": 1}, "i" * 65, 2**53, -(2**53), 10**30)
# Values of `since` that are not {offset: int >= 0, epoch: string}.
BAD_SINCE: tuple[Any, ...] = (
    0,
    "0",
    [],
    True,
    {},
    {"offset": -1, "epoch": "e"},
    {"offset": "1", "epoch": "e"},
    {"offset": True, "epoch": "e"},
    {"offset": 1.5, "epoch": "e"},
    {"offset": 1, "epoch": 5},
    {"offset": 1},
    {"epoch": "e"},
)
NOT_AN_INT: tuple[Any, ...] = ("x", "", 1.5, [], {}, None, "1.5", [1])


@dataclass(frozen=True)
class Reply:
    """An error reply with this code and id (the connection stays open); code None is a success reply."""

    code: str | None
    frame_id: Any


@dataclass(frozen=True)
class Probe:
    kind: str
    payload: str | bytes
    reply: Reply | None  # None: no reply (the socket is closed instead)
    close: int | None = None  # the close code that must follow, if any


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


@dataclass
class Tokens:
    """Tokens the refresh and auth probes use."""

    user_id: int
    expired: str
    other_user: str


class FrameFactory:
    def __init__(self, seed: int, tokens: Tokens, max_frame_bytes: int) -> None:
        self.random = random.Random(seed)
        self.tokens = tokens
        self.max_frame_bytes = max_frame_bytes
        self._ids = 0

    def next_id(self) -> int | str:
        self._ids += 1
        return self._ids if self._ids % 3 else f"f{self._ids}"

    def pick(self, values: tuple[Any, ...] | list[Any]) -> Any:
        return values[self.random.randrange(len(values))]

    def text(self, low: int, high: int, alphabet: str = string.printable + "éß中😀\u2028") -> str:
        return "".join(self.random.choice(alphabet) for _ in range(self.random.randint(low, high)))

    # -- kinds that keep an authenticated socket open ------------------------------------------------

    def random_bytes(self) -> Probe:
        size = self.random.choice((0, 1, 2, 16, 100, 1000, 4096))
        payload = bytes(self.random.getrandbits(8) for _ in range(size))
        return Probe("random_bytes", payload, Reply("binary_not_supported", None))

    def bad_json(self) -> Probe:
        frame = _dumps({"op": "ping", "id": self.next_id(), "x": self.text(0, 20)})
        choice = self.random.randrange(4)
        if choice == 0:  # a proper prefix of an object is never JSON
            payload = frame[: self.random.randrange(1, len(frame) - 1)]
        elif choice == 1:
            payload = frame.replace('"', "'")
        elif choice == 2:
            payload = frame[:-1] + ",}"
        else:
            payload = self.pick(("<", "}", "#", "'", "u", "x", "{]", "[}")) + self.text(0, 80)
        try:
            json.loads(payload)
        except ValueError:
            return Probe("bad_json", payload, Reply("invalid_json", None))
        return self.bad_json()

    def not_an_object(self) -> Probe:
        value = self.pick((1, -3.5, "ping", [], [{"op": "ping"}], None, True, "NaN", "x" * 50))
        payload = "NaN" if value == "NaN" else _dumps(value)
        return Probe("not_an_object", payload, Reply("invalid_frame", None))

    def unknown_op(self) -> Probe:
        alphabet = string.ascii_letters + string.digits + "_:-./ "
        while True:
            op = self.text(1, 32, alphabet)
            if op not in KNOWN_OPS:
                break
        frame_id = self.next_id()
        return Probe("unknown_op", _dumps({"op": op, "id": frame_id}), Reply("unknown_op", frame_id))

    def wrong_type(self) -> Probe:
        """One field of one op given a value of the wrong type (or out of its range)."""
        frame_id = self.next_id()
        choice = self.random.randrange(11)
        op = self.pick(KNOWN_OPS)
        if choice == 0:
            frame = {"op": op, "id": self.pick(BAD_IDS)}
            return Probe("wrong_type:id", _dumps(frame), Reply("invalid_frame", None))
        if choice == 1:
            frame = {"op": self.pick((*NOT_A_STRING, "", "o" * 33)), "id": frame_id}
            if frame["op"] is None and self.random.random() < 0.5:
                del frame["op"]
            return Probe("wrong_type:op", _dumps(frame), Reply("invalid_frame", frame_id))
        if choice == 2:
            # After authentication, `auth` is refused whatever it carries.
            frame = {"op": "auth", "id": frame_id, "token": self.pick((*NOT_A_STRING, "t"))}
            return Probe("wrong_type:auth", _dumps(frame), Reply("already_authenticated", frame_id))
        if choice in (3, 4):
            channel_op = self.pick(("subscribe", "unsubscribe", "presence", "typing"))
            frame = {"op": channel_op, "id": frame_id, "channel": self.pick((*NOT_A_STRING, "", "c" * 129))}
            return Probe(f"wrong_type:{channel_op}.channel", _dumps(frame), Reply("invalid_frame", frame_id))
        if choice == 5:
            # A well-formed channel the socket may not use: refused by the rule of each op.
            channel = self.pick(
                (
                    "admin:analytics",
                    "user:0",
                    "course:x:discussion",
                    "nope",
                    self.text(1, 40),
                    "course:1:chat",
                )
            )
            channel_op, code = self.pick(
                (("subscribe", "forbidden"), ("presence", "not_subscribed"), ("typing", "forbidden"))
            )
            frame = {"op": channel_op, "id": frame_id, "channel": channel}
            return Probe(f"refused:{channel_op}", _dumps(frame), Reply(code, frame_id))
        if choice == 6:
            frame = {
                "op": "subscribe",
                "id": frame_id,
                "channel": f"user:{self.tokens.user_id}",
                "since": self.pick(BAD_SINCE),
            }
            return Probe("wrong_type:subscribe.since", _dumps(frame), Reply("invalid_frame", frame_id))
        if choice == 7:
            token = self.pick((*NOT_A_STRING, "", "t" * 8193))
            frame = {"op": "refresh", "id": frame_id, "token": token}
            return Probe("wrong_type:refresh.token", _dumps(frame), Reply("invalid_frame", frame_id))
        if choice == 8:
            token, code = self.pick(
                (
                    (self.text(1, 200, string.ascii_letters + ".-_"), "invalid_token"),
                    (forge(claims_for(self.tokens.user_id)), "invalid_token"),
                    (self.tokens.expired, "token_expired"),
                    (self.tokens.other_user, "wrong_user"),
                )
            )
            frame = {"op": "refresh", "id": frame_id, "token": token}
            return Probe("refused:refresh", _dumps(frame), Reply(code, frame_id))
        if choice == 9:
            frame = {"op": "heartbeat", "id": frame_id, **self._valid_heartbeat()}
            if self.random.random() < 0.5:
                frame["course_id"] = self.pick((*NOT_AN_INT, True))
                return Probe(
                    "wrong_type:heartbeat.course_id", _dumps(frame), Reply("validation_error", frame_id)
                )
            frame["course_id"] = self.pick((0, -1, 2**31, 10**15))
            return Probe("range:heartbeat.course_id", _dumps(frame), Reply("not_found", frame_id))
        frame = {"op": "heartbeat", "id": frame_id, **self._invalid_heartbeat()}
        return Probe("wrong_type:heartbeat.body", _dumps(frame), Reply("validation_error", frame_id))

    def _valid_heartbeat(self) -> dict[str, Any]:
        return {"course_id": 1, "lesson_id": "1", "seconds_spent": 5, "seq": 1}

    def _invalid_heartbeat(self) -> dict[str, Any]:
        body: dict[str, Any] = {"lesson_id": "1", "seconds_spent": 5, "seq": 1, "client_ts": 1.0}
        field = self.pick(("lesson_id", "seconds_spent", "seq", "client_ts", "extra"))
        body[field] = {
            "lesson_id": self.pick((*NOT_A_STRING[1:], "", "l" * 65)),
            "seconds_spent": self.pick((0, 61, -5, *NOT_AN_INT)),
            "seq": self.pick((-1, 2**53 + 1, "x", [], {}, 1.5)),
            "client_ts": self.pick((-1, "x", [], {})),
            "extra": self.pick((1, "x", None)),
        }[field]
        if field in ("seconds_spent",) and body[field] is None:
            del body[field]
        try:
            HeartbeatIn.model_validate(body)
        except ValidationError:
            return {"course_id": 1, **body}
        return self._invalid_heartbeat()

    def open_socket_probe(self) -> Probe:
        kinds = (self.random_bytes, self.bad_json, self.not_an_object, self.unknown_op, self.wrong_type)
        weights = (1, 2, 1, 2, 6)
        maker = self.random.choices(kinds, weights)[0]
        return maker()

    # -- kinds that end the socket -------------------------------------------------------------------

    def huge(self, *, binary: bool) -> Probe:
        size = self.max_frame_bytes + self.random.choice((1, 100, 10_000, 100_000))
        body = _dumps({"op": "ping", "id": 1, "pad": "x" * size})
        payload: str | bytes = body.encode() if binary else body
        return Probe("huge_binary" if binary else "huge_text", payload, None, close=1009)

    def before_auth(self) -> Probe:
        """The first frame of a socket, which is not a valid `auth`: an error reply (when the frame is text)
        and close 4001."""
        frame_id = self.next_id()
        choice = self.random.randrange(8)
        if choice == 0:
            return Probe("before_auth:bytes", self.random_bytes().payload, None, close=4001)
        if choice == 1:
            return Probe(
                "before_auth:bad_json", self.bad_json().payload, Reply("invalid_json", None), close=4001
            )
        if choice == 2:
            probe = self.not_an_object()
            return Probe("before_auth:not_an_object", probe.payload, probe.reply, close=4001)
        if choice == 3:
            op = self.pick((*KNOWN_OPS[1:], "nope"))
            frame = {"op": op, "id": frame_id, "channel": "user:1"}
            return Probe("before_auth:other_op", _dumps(frame), Reply("auth_required", frame_id), close=4001)
        if choice == 4:
            frame = {"op": "auth", "id": frame_id, "token": self.pick((*NOT_A_STRING, "", "t" * 8193))}
            return Probe(
                "before_auth:token_type", _dumps(frame), Reply("invalid_frame", frame_id), close=4001
            )
        if choice == 5:
            frame = {"op": "auth", "id": self.pick(BAD_IDS), "token": "t"}
            return Probe("before_auth:id_type", _dumps(frame), Reply("invalid_frame", None), close=4001)
        token, code = self.pick(
            (
                (self.text(1, 300, string.ascii_letters + ".-_"), "invalid_token"),
                (forge(claims_for(self.tokens.user_id)), "invalid_token"),
                (self.tokens.expired, "token_expired"),
            )
        )
        frame = {"op": "auth", "id": frame_id, "token": token}
        return Probe("before_auth:refused_token", _dumps(frame), Reply(code, frame_id), close=4001)

    def flood_frame(self, *, binary: bool) -> Probe:
        if binary:
            return self.random_bytes()
        maker: Callable[[], Probe] = self.pick((self.unknown_op, self.bad_json, self.ping))
        return maker()

    def ping(self) -> Probe:
        frame_id = self.next_id()
        return Probe("ping", _dumps({"op": "ping", "id": frame_id}), Reply(None, frame_id))
