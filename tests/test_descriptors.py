"""The hub's socket budget under an open-file limit, and the limit raised at start."""

from __future__ import annotations

import resource
import subprocess
import sys

from app.config import Settings
from app.descriptors import RESERVED, socket_budget


def test_the_budget_keeps_a_reserve_for_the_stores() -> None:
    assert socket_budget(20_000) == 20_000 - RESERVED
    assert socket_budget(1_000) == 750  # a quarter kept when that is less than the reserve
    assert socket_budget(3) == 3
    assert socket_budget(1) == 1
    assert socket_budget(resource.RLIM_INFINITY) is None


def test_the_hub_takes_the_budget_unless_a_bound_is_set() -> None:
    assert Settings().hub_config().max_connections == socket_budget()
    assert Settings(ws_max_connections=50).hub_config().max_connections == 50


def test_the_soft_limit_is_raised_to_the_hard_one() -> None:
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    code = (
        "import resource; from app.descriptors import raise_open_file_limit; "
        "resource.setrlimit(resource.RLIMIT_NOFILE, (256, resource.getrlimit(resource.RLIMIT_NOFILE)[1])); "
        "print(raise_open_file_limit(), resource.getrlimit(resource.RLIMIT_NOFILE)[0])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == [str(hard), str(hard)]
