"""The time-tracking suites of tests/telemetry (acceptance, duplicates by `seq` and key, group commit
across two instances, re-enrollment, worker kills and claims with exactly-once folding), collected again
here, one module per suite so each keeps its own settings, against the 3-master Redis Cluster of
tests/cluster/conftest.py. The cluster has one logical database, so it is the telemetry tests' own."""

from __future__ import annotations

import pytest

from app.runtime import StoreUrls


@pytest.fixture(scope="session")
def telemetry_urls(store_urls: StoreUrls) -> StoreUrls:
    return store_urls
