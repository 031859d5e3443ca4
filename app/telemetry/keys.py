"""Every Redis name of the telemetry pipeline, in one place.

The stream is split into partitions so that ingest spreads over the shards of a Redis Cluster: a
learner's heartbeats all go to partition `user_id % partitions`, and every key the accept script touches
for them (their budget, their `seq` per course, their idempotency keys) carries the partition's hash
tag, so one script call touches one slot. Partition 0 keeps the single stream's name (`lf:telemetry`);
its keys are tagged with that name, which hashes to the stream's own slot. Partition k > 0 is
`lf:telemetry:{t<k>}` with keys tagged `{t<k>}`.

Each partition has its own consumer group (same name, per stream), read by one consumer at a time (its
owner). A heartbeat is known to the folds by its
*applied id*: the stream id of its entry for partition 0 (so ids stored before partitions existed stay
valid), and `<k>/<stream id>` for partition k, since two streams can hand out the same id; an entry holds
the heartbeats of one acceptance call, and all but its first have `.<n>` after that id.
"""

from __future__ import annotations

STREAM = "lf:telemetry"
GROUP = "telemetry-workers"


def partition_of(user_id: int, partitions: int) -> int:
    return user_id % partitions


def stream(partition: int) -> str:
    return STREAM if partition == 0 else f"{STREAM}:{{t{partition}}}"


def _tag(partition: int) -> str:
    return f"{{{STREAM}}}" if partition == 0 else f"{{t{partition}}}"


def budget(partition: int, user_id: int) -> str:
    """The instant up to which the user's time is already credited (ms)."""
    return f"lf:hb:{_tag(partition)}:budget:{user_id}"


def last_seq(partition: int, user_id: int, course_id: int) -> str:
    return f"lf:hb:{_tag(partition)}:seq:{user_id}:{course_id}"


def idempotency(partition: int, user_id: int, key: str) -> str:
    return f"lf:hb:{_tag(partition)}:idem:{user_id}:{key}"


def backlog(partition: int) -> str:
    """How many heartbeats the partition's stream holds not yet folded (app/telemetry/stream.py)."""
    return f"lf:hb:{_tag(partition)}:backlog"


def owner(partition: int) -> str:
    """The consumer that folds the partition now, for as long as the key lives (app/telemetry/stream.py,
    StreamConsumer.acquire)."""
    return f"lf:hb:{_tag(partition)}:owner"


def fold_mark(partition: int) -> str:
    """The field of a folded document holding the order (`entry_order`) of the newest entry of the
    partition folded into it (app/telemetry/fold.py)."""
    return f"folded_p{partition}"


def applied_id(partition: int, stream_id: str, record: int = 0) -> str:
    """The id of the `record`-th heartbeat of a stream entry: the entry's own id for the first (so ids
    of entries holding one heartbeat, all of them before entries held several, stay as they were), with
    ".<record>" for the others."""
    entry = stream_id if partition == 0 else f"{partition}/{stream_id}"
    return f"{entry}.{record}" if record else entry


def entry_applied_id(applied: str) -> str:
    """The applied id of the entry that holds the heartbeat with this applied id (its first's)."""
    return applied.partition(".")[0]


def stream_id_of(applied: str) -> str:
    """The stream id of the entry that holds the heartbeat with this applied id."""
    return entry_applied_id(applied).rpartition("/")[2]


def stream_order(stream_id: str) -> tuple[int, int]:
    """(ms, seq) of a stream id: stream ids compare by this, not as strings. ValueError if it is none."""
    ms, _, seq = stream_id.partition("-")
    return int(ms), int(seq or "0")


# A stream id's sequence number within its millisecond stays far below this (it counts the entries added
# in that millisecond), so one integer orders the entries of a partition: it fits in 64 bits until the
# year 2262, and a document store compares it exactly.
_SEQ_SPAN = 1_000_000


def entry_order(applied: str) -> tuple[int, int]:
    """(partition, order) of the stream entry holding the heartbeat with this applied id: the order is
    ms × 10^6 + seq, so entries of one partition compare by it as by their stream ids. ValueError if it
    names no entry."""
    order = applied_order(applied)
    if order is None or order[2] >= _SEQ_SPAN:
        raise ValueError(f"not an applied id: {applied!r}")
    partition, ms, seq = order
    return partition, ms * _SEQ_SPAN + seq


def applied_order(entry_id: str) -> tuple[int, int, int] | None:
    """(partition, ms, seq) of the entry an applied id names, comparable within one partition; None when
    it is not one."""
    partition, slash, stream_id = entry_id.rpartition("/")
    try:
        return (int(partition) if slash else 0), *stream_order(stream_id.partition(".")[0])
    except ValueError:
        return None
