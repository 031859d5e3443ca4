"""A nesting limit checked on the raw bytes, before json.loads sees them.

Python's parser recurses once per nesting level: `[[[[…` a few thousand deep raises RecursionError (an
unhandled 500 with a traceback in the log), and anything that walks the parsed value recursively has the
same limit. No request body of this API nests more than a few levels, so a generous ceiling costs
nothing and the refusal is a plain 422 naming the problem.
"""

from __future__ import annotations

import re
from itertools import accumulate

from app.errors import ValidationFailed

MAX_JSON_DEPTH = 32
_BLOCK = 4096

# A JSON string literal (escapes included), matched possessively so a long run of backslashes stays linear.
_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.DOTALL)
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")
# +1 for an opening bracket, -1 for a closing one, indexed by byte value.
_STEP = [0] * 256
for _open in b"[{":
    _STEP[_open] = 1
for _close in b"]}":
    _STEP[_close] = -1


def exceeds_depth(raw: bytes, limit: int) -> bool:
    """Whether arrays and objects in `raw` nest deeper than `limit` (brackets inside strings do not
    count). Scans in blocks and stops at the first block that goes too deep."""
    brackets = _STRING.sub(b"", raw).translate(None, _NOT_BRACKETS)
    depth = 0
    for start in range(0, len(brackets), _BLOCK):
        levels = list(accumulate(map(_STEP.__getitem__, brackets[start : start + _BLOCK]), initial=depth))
        if max(levels) > limit:
            return True
        depth = levels[-1]
    return False


def check_json_depth(raw: bytes, limit: int = MAX_JSON_DEPTH) -> None:
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return  # cannot nest deeper than it has brackets (the usual case: no scan at all)
    if exceeds_depth(raw, limit):
        raise ValidationFailed(
            "The request body nests too deeply.",
            details=[
                {
                    "field": "body",
                    "location": "body",
                    "message": f"JSON may nest at most {limit} arrays or objects deep",
                    "type": "json_too_deep",
                }
            ],
        )
