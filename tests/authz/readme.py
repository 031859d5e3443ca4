"""The matrix as Markdown for the README block between the authz-matrix markers.

`python -m tests.authz.readme` rewrites that block; tests/authz/test_matrix.py fails while it differs.
"""

from __future__ import annotations

from pathlib import Path

from tests.authz.table import CHANNELS, HEADINGS, PRINCIPALS, ROWS

README = Path(__file__).resolve().parents[2] / "README.md"
START, END = "<!-- authz-matrix:start -->", "<!-- authz-matrix:end -->"

INTRO = """\
Every cell below is one test case of `tests/authz/test_matrix.py` (the data is `tests/authz/table.py`; a
route the app serves without a row fails the test, and so does this block when it differs from the table:
regenerate it with `python -m tests.authz.readme`). Rows are REST routes as the app declares them and
WebSocket channels, columns are callers, cells are HTTP statuses, or for a channel `ok`, `forbidden` (an
error reply; the connection stays open) or `4001` (closed: not authenticated; a socket whose account is
deactivated *while connected* is closed with 4003 instead, see `tests/live/test_recheck.py`). The world: a
published course owned by *owner* with a lesson and a public and a private post by *enrolled* (who is also
`{user_id}`, while `{partner_id}` is the owner); *other learner*, *blocked* and *deactivated* (token still
unexpired) are enrolled too, *learner* is enrolled nowhere, *other instr.* owns nothing here; what a row
calls new or throwaway is made for each cell, so a write never changes what later cells see."""


def render() -> str:
    header = "| route / channel | " + " | ".join(HEADINGS[who] for who in PRINCIPALS) + " |"
    lines = [header, "|---|" + "---|" * len(PRINCIPALS)]
    for row in ROWS:
        cells = " | ".join(str(row.expected[who]) for who in PRINCIPALS)
        lines.append(f"| `{row.shown}`{_note(row.note)} | {cells} |")
    for channel in CHANNELS:
        cells = " | ".join(str(channel.expected[who]) for who in PRINCIPALS)
        lines.append(f"| WS `{channel.shown}`{_note(channel.note)} | {cells} |")
    return "\n".join([INTRO, "", *lines])


def _note(note: str) -> str:
    return f" ({note})" if note else ""


def current_block(text: str) -> str:
    start, end = text.index(START) + len(START), text.index(END)
    return text[start:end].strip("\n")


def write(path: Path = README) -> None:
    text = path.read_text()
    start, end = text.index(START) + len(START), text.index(END)
    path.write_text(text[:start] + "\n" + render() + "\n" + text[end:])


if __name__ == "__main__":
    write()
