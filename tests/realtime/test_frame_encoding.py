"""Frames the hub encodes (realtime.protocol) are what `json.dumps` with compact separators and
unescaped text makes of the same value, byte for byte, through the encoder built once."""

from __future__ import annotations

import json
from typing import Any

import pytest

from realtime import protocol
from realtime.protocol import CloseCode, dumps, error_reply, reply


def reference(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


VALUES: list[Any] = [
    None,
    True,
    0,
    -(2**53),
    2**70,
    1.5,
    1733443200.123456,
    1e-7,
    float("nan"),
    "plain",
    'quote " backslash \\ newline \n tab \t control \x01',
    "naïve — 学习 🎓",
    [],
    {},
    {"nested": [{"a": [1, 2, {"b": None}]}], "flag": False, "code": CloseCode.TOKEN_EXPIRED},
    ("a", 1),
]


@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
def test_dumps_matches_the_standard_encoder(value: Any) -> None:
    assert dumps(value) == reference(value)


@pytest.mark.parametrize("frame_id", [None, 7, "abc-1", 'odd "id"'])
def test_replies_match_the_standard_encoder(frame_id: Any) -> None:
    assert reply(frame_id, pong=True) == reference({"id": frame_id, "ok": True, "pong": True})
    message = "Too many heartbeats are being accepted right now; send this one again shortly."
    for _ in range(2):  # the second time from the cache of error bodies
        assert error_reply(frame_id, "overloaded", message) == reference(
            {"id": frame_id, "ok": False, "error": {"code": "overloaded", "message": message}}
        )
    assert json.loads(error_reply(frame_id, "unknown_op", "unknown op 'x\"y'"))["error"] == {
        "code": "unknown_op",
        "message": "unknown op 'x\"y'",
    }


def test_a_value_json_cannot_carry_is_refused_and_the_encoder_still_works() -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        dumps({"when": object()})
    assert dumps({"after": [1]}) == '{"after":[1]}'


def test_without_the_c_accelerator_the_python_encoder_gives_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(protocol, "_encode_chunks", None)
    for value in VALUES:
        assert dumps(value) == reference(value)
