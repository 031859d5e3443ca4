"""The repository stands on its own: no tracked file cites documents that a clone does not contain.

Comments and docs point at `docs/` or the README instead; see docs/README.md."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Spelled in pieces so that this file does not match itself.
FORBIDDEN = ("SPEC" + " §", ".." + "/shared", "ORIGINAL" + "-API.md", "seed/" + "architecture.txt")


def tracked_files() -> list[Path]:
    try:
        listing = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
        ).stdout.decode()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: the tracked files are unknown")
    return [ROOT / name for name in listing.split("\0") if name]


def citations(text: str) -> list[str]:
    return [
        f"{number}: {line.strip()}"
        for number, line in enumerate(text.splitlines(), start=1)
        if any(marker in line for marker in FORBIDDEN)
    ]


def test_the_finder_sees_each_form_of_outside_reference() -> None:
    for marker in FORBIDDEN:
        assert citations(f"# see {marker} for why") == [f"1: # see {marker} for why"]
    assert citations("# see docs/PRODUCT.md for why") == []


def test_no_tracked_file_cites_a_document_outside_the_repository() -> None:
    found: dict[str, list[str]] = {}
    for path in tracked_files():
        if not path.is_file():
            continue  # deleted in the work tree, not yet in the index
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # images and other binary files
        if hits := citations(text):
            found[str(path.relative_to(ROOT))] = hits
    assert found == {}, "point these at docs/ or the README instead"
