"""Runs nx-27017 quietly: its own entry point logs every command at INFO level."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from types import FrameType


def _exit(signum: int, frame: FrameType | None) -> None:
    sys.exit(0)


def main() -> None:
    from neosqlite.options import JournalMode
    from nx_27017.daemon import run_server_sync

    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    options = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    signal.signal(signal.SIGTERM, _exit)
    args = argparse.Namespace(
        db_path=options.db,
        host=options.host,
        port=options.port,
        journal_mode=JournalMode.validate("WAL"),
        fts5_tokenizers=None,
        threaded=False,
        data_dir=None,
        single_db_compat=False,
    )
    run_server_sync(args)


if __name__ == "__main__":
    main()
