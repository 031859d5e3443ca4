"""The live activity a heartbeat leaves in Redis is written on the server but not to its append-only file
(nor to replicas): it is rebuilt by the next heartbeats, while the stream entry that credits the time
must be durable. Checked on a Valkey of its own, whose files this test can read."""

from __future__ import annotations

import pytest

from app.stores.embedded import EmbeddedValkey
from app.stores.redis import create_redis
from app.telemetry.activity import ActivityKeys
from app.telemetry.stream import STREAM, TelemetryStream

pytestmark = pytest.mark.timeout(60)


async def test_the_activity_is_kept_in_memory_and_only_the_stream_entry_is_logged(
    valkey: EmbeddedValkey,
) -> None:
    redis = create_redis(valkey.start(), retries=0)
    try:
        stream = TelemetryStream(redis, tolerance_seconds=2, first_heartbeat_max_seconds=15)
        accepted = await stream.accept(
            user_id=5, course_id=77, lesson_id="L1", seconds=5, seq=1, enrollment_id=9
        )

        assert accepted.credited_seconds == 5 and not accepted.duplicate
        assert await redis.hexists(ActivityKeys.activity(77), "5")  # the live views see it
        logged = b"".join(path.read_bytes() for path in valkey.data_dir.rglob("*.aof"))
        assert STREAM.encode() in logged  # appendfsync always: logged before the reply
        assert b"lf:{act}" not in logged
    finally:
        await redis.aclose()
