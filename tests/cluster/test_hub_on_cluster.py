"""The hub, re-authorization, recovery and presence suites of tests/live, collected again here so they run
against the 3-master Redis Cluster of tests/cluster/conftest.py (history, presence and relay spread over
the shards by channel)."""

from __future__ import annotations

from tests.live.conftest import instance_with, instances, ws_connect
from tests.live.test_hub_multi_instance import *  # noqa: F403
from tests.live.test_recheck import *  # noqa: F403
from tests.live.test_recovery import *  # noqa: F403

__all__ = ["instance_with", "instances", "ws_connect"]
