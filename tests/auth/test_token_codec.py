"""Access tokens: a verified token is kept for its next requests (app/security/tokens.py), and keeping it
changes nothing about what is accepted."""

from __future__ import annotations

import time

import jwt
import pytest

from app.security import tokens
from app.security.tokens import InvalidToken, TokenCodec

SECRET = "a-secret-long-enough-for-hs256-0123456789"


def _error(codec: TokenCodec, token: str) -> str:
    with pytest.raises(InvalidToken) as raised:
        codec.decode_access(token)
    return raised.value.code


def test_a_kept_token_still_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    codec = TokenCodec(SECRET, access_ttl_seconds=60)
    token = codec.issue_access(user_id=7, role="learner", session_id="s1")
    claims = codec.decode_access(token)
    assert codec.decode_access(token) is claims  # the second decode is the kept one
    later = time.time() + 61
    monkeypatch.setattr(tokens.time, "time", lambda: later)
    assert _error(codec, token) == "token_expired"


def test_only_verified_tokens_are_kept_and_a_tampered_one_is_refused() -> None:
    codec = TokenCodec(SECRET, access_ttl_seconds=60)
    token = codec.issue_access(user_id=7, role="learner", session_id="s1")
    assert codec.decode_access(token).user_id == 7
    header, payload, signature = token.split(".")
    forged_payload = jwt.encode(
        {**jwt.decode(token, options={"verify_signature": False}), "sub": "8"}, "x" * 32, algorithm="HS256"
    ).split(".")[1]
    assert _error(codec, f"{header}.{forged_payload}.{signature}") == "invalid_token"
    assert _error(codec, f"{header}.{payload}.{signature[:-4]}AAAA") == "invalid_token"
    other = TokenCodec("another-secret-long-enough-0123456789", access_ttl_seconds=60)
    assert _error(other, token) == "invalid_token"


def test_the_kept_tokens_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens, "VERIFIED_TOKENS_KEPT", 3)
    codec = TokenCodec(SECRET, access_ttl_seconds=60)
    issued = [codec.issue_access(user_id=n, role="learner", session_id=f"s{n}") for n in range(1, 6)]
    first = codec.decode_access(issued[0])
    for token in issued[1:]:
        codec.decode_access(token)
    assert len(codec._verified) == 3
    again = codec.decode_access(issued[0])  # verified afresh, same answer
    assert again == first and again is not first
