"""Where the hub keeps its state in Redis: every key and shard channel name, in one place.

Each channel's keys carry the channel as a hash tag (`<prefix>:hist:{<channel>}:s`), so in a Redis Cluster
the history stream, the offset/epoch hash, the presence keys and the relay's shard channel of one channel
all live in one slot: the publish script (offset + append + SPUBLISH) and the presence transactions
touch one shard. Keys shared by every instance (the online-users registry) share the tag `{online}`.
The tag ends at the first `}`, so whatever a channel name contains, all keys of one channel share it
(only a name that starts with `}` would give an empty tag; the app's channel names never do).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KeyLayout:
    prefix: str = "lf"

    def history_stream(self, channel: str) -> str:
        return f"{self.prefix}:hist:{{{channel}}}:s"

    def history_meta(self, channel: str) -> str:
        return f"{self.prefix}:hist:{{{channel}}}:m"

    def shard_channel(self, channel: str) -> str:
        """The relay's (sharded) pub/sub channel of a hub channel."""
        return f"{self.prefix}:pub:{{{channel}}}"

    def channel_of(self, shard_channel: str) -> str | None:
        """The hub channel of a relay channel, or None if it is not one."""
        head = f"{self.prefix}:pub:{{"
        if not shard_channel.startswith(head) or not shard_channel.endswith("}"):
            return None
        return shard_channel[len(head) : -1]

    @property
    def control_channel(self) -> str:
        """Re-authorization requests for everyone (e.g. a course's channels); every instance subscribes."""
        return f"{self.prefix}:{{ctl}}"

    def user_control(self, user_id: str) -> str:
        """Re-checks of one user's connections. Tagged like the hub channel `user:<id>`, where the app
        sends that user's notices, so in a cluster a re-check and a notice published after it travel on
        one shard, in order: the connection acts on the change before the user can see the notice."""
        return f"{self.prefix}:ctl:{{user:{user_id}}}"

    def user_of_control(self, shard_channel: str) -> str | None:
        """The user of a per-user control channel, or None if it is not one."""
        head = f"{self.prefix}:ctl:{{user:"
        if not shard_channel.startswith(head) or not shard_channel.endswith("}"):
            return None
        return shard_channel[len(head) : -1]

    def presence_entries(self, channel: str) -> str:
        return f"{self.prefix}:pres:{{{channel}}}:e"

    def presence_expiry(self, channel: str) -> str:
        return f"{self.prefix}:pres:{{{channel}}}:x"

    @property
    def online(self) -> str:
        """Base of the online-users keys (realtime.online)."""
        return f"{self.prefix}:{{online}}"


DEFAULT_KEYS = KeyLayout()
