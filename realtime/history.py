"""Channel history in Redis: a bounded stream per channel, with offsets and an epoch.

Guarantees: `publish` assigns the next offset, appends to the history and SPUBLISHes the complete frame
in one Lua script (its keys and shard channel share the channel's hash tag, see realtime.keys), so
offsets are gap-free and increase in publish order on every instance. The epoch
is created with the channel's first publication and disappears with its history (expiry, flush, lost
Redis); a new epoch tells a resubscribing client that continuity cannot be guaranteed. History keeps
at most `size` publications and expires `ttl` seconds after the last one.
"""

from __future__ import annotations

import uuid

from realtime.backends import Position, Recovery
from realtime.keys import DEFAULT_KEYS, KeyLayout
from realtime.protocol import dumps
from realtime.redis_client import RedisClient

# KEYS: stream, meta, shard channel (declared so a cluster routes the script to the channel's shard).
# ARGV: (unused), frame head (before offset/epoch), fragment, size, ttl, epoch candidate.
_PUBLISH = """
local epoch = redis.call('HGET', KEYS[2], 'epoch')
if not epoch then
  epoch = ARGV[6]
  redis.call('HSET', KEYS[2], 'epoch', epoch)
end
local offset = redis.call('HINCRBY', KEYS[2], 'offset', 1)
local frame = ARGV[2] .. '"offset":' .. offset .. ',"epoch":"' .. epoch .. '",' .. ARGV[3]
redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[4], offset .. '-1', 'f', frame)
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('EXPIRE', KEYS[2], ARGV[5])
redis.call('SPUBLISH', KEYS[3], offset .. '|' .. epoch .. '|' .. frame)
return {offset, epoch}
"""


class RedisHistory:
    def __init__(
        self, redis: RedisClient, *, size: int, ttl_seconds: int, keys: KeyLayout = DEFAULT_KEYS
    ) -> None:
        if size < 1 or ttl_seconds < 1:
            raise ValueError("history size and ttl must be positive")
        self._redis = redis
        self._size = size
        self._ttl = ttl_seconds
        self._keys = keys
        self._script = redis.register_script(_PUBLISH)

    async def publish(self, channel: str, fragment: str) -> Position:
        """Append `fragment` (see realtime.protocol.publication_fragment) and relay it to every instance."""
        head = f'{{"channel":{dumps(channel)},'
        offset, epoch = await self._script(
            keys=[
                self._keys.history_stream(channel),
                self._keys.history_meta(channel),
                self._keys.shard_channel(channel),
            ],
            args=["", head, fragment, self._size, self._ttl, uuid.uuid4().hex[:12]],
        )
        return Position(int(offset), str(epoch))

    async def position(self, channel: str) -> Position:
        offset, epoch = await self._redis.hmget(self._keys.history_meta(channel), ["offset", "epoch"])
        return Position(int(offset or 0), str(epoch or ""))

    async def since(self, channel: str, offset: int, epoch: str) -> Recovery:
        """The publications after `offset`, if the history still holds all of them in the same epoch."""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hmget(self._keys.history_meta(channel), ["offset", "epoch"])
            pipe.xrange(self._keys.history_stream(channel), min=f"{offset + 1}-1", max="+")
            (current_offset, current_epoch), entries = await pipe.execute()
        position = Position(int(current_offset or 0), str(current_epoch or ""))
        if position.offset == 0:
            # Nothing was ever published (or everything is gone): continuity holds only for a client
            # that also saw nothing in this (absent) epoch.
            return Recovery([], offset == 0 and not epoch, position)
        if epoch != position.epoch or offset > position.offset:
            return Recovery([], False, position)
        frames = [(int(entry_id.split("-")[0]), fields["f"]) for entry_id, fields in entries]
        missing = position.offset - offset
        complete = len(frames) == missing and (not frames or frames[0][0] == offset + 1)
        return Recovery(frames if complete else [], complete, position)
