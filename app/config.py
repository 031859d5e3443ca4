"""Configuration from environment variables (12-factor). Every field is listed in .env.example."""

from __future__ import annotations

import ipaddress
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.descriptors import socket_budget
from app.stores.redis import cluster_url
from realtime.config import HubConfig

DEFAULT_JWT_SECRET = "dev-only-insecure-secret-change-me"
MIN_JWT_SECRET_LENGTH = 32


class UnsafeConfiguration(RuntimeError):
    """The settings would expose the server (a known or guessable signing key on a reachable address)."""


def is_loopback_host(host: str) -> bool:
    """Whether a bind address only accepts connections from this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    environment: Literal["development", "production", "test"] = Field(
        "development", validation_alias="LEARNFLOW_ENV"
    )
    host: str = "127.0.0.1"
    port: int = 8000

    database_url: str | None = None
    # One server (`redis://…`) or a Redis Cluster (`redis+cluster://host:port[,host:port…]`); or, for a
    # cluster, REDIS_CLUSTER_URLS (comma-separated `redis://host:port` seeds), which wins when set.
    redis_url: str | None = None
    redis_cluster_urls: str | None = None
    mongo_url: str | None = None
    mongo_database: str = "learnflow"
    data_dir: Path = Field(Path(".learnflow"), validation_alias="LEARNFLOW_DATA_DIR")

    jwt_secret: str = DEFAULT_JWT_SECRET
    access_token_ttl_seconds: int = Field(15 * 60, ge=30)
    refresh_token_ttl_seconds: int = Field(14 * 24 * 3600, ge=60)

    # Sign-in throttling per (account, client): this many failures are free, then each further failure
    # doubles the wait before the next attempt from that client (1 s, 2 s, 4 s … up to the maximum).
    login_free_failures: int = Field(5, ge=1)
    login_failure_window_seconds: int = Field(15 * 60, ge=1)
    login_max_delay_seconds: int = Field(5 * 60, ge=1)
    # A client (IP) that signed in to an account within this many days is exempt from the account-wide
    # limit, so attempts from elsewhere never keep the owner out.
    login_known_client_days: int = Field(30, ge=1)
    bcrypt_rounds: int = Field(12, ge=4, le=16)

    rate_limit_register: str = "5/minute"
    rate_limit_login: str = "10/minute"
    rate_limit_login_account: str = "10/minute"
    rate_limit_default: str = "60/minute"
    rate_limit_ws_connect: str = "60/minute"
    rate_limit_enabled: bool = True

    trusted_proxies: str = "127.0.0.1,::1"
    cors_origins: str = ""

    admin_email: str | None = None
    admin_password: str | None = None
    # Start-up with ADMIN_EMAIL never promotes an existing non-admin account unless this is set.
    admin_bootstrap_force: bool = False

    # The refresh token and the Google sign-in nonce travel in HttpOnly cookies, Secure unless this is
    # switched off for plain-HTTP development on a non-loopback address (browsers accept Secure cookies
    # from http://localhost and 127.0.0.1).
    auth_cookie_secure: bool = True

    # /metrics: with a token, `Authorization: Bearer <token>` is required; without one only clients on
    # this machine are answered.
    metrics_token: str | None = None

    google_client_id: str | None = None
    google_client_secret: str | None = None
    google_redirect_uri: str | None = None
    google_auth_url: str = "https://accounts.google.com/o/oauth2/v2/auth"
    google_token_url: str = "https://oauth2.googleapis.com/token"
    google_userinfo_url: str = "https://openidconnect.googleapis.com/v1/userinfo"

    cloudinary_url: str | None = None
    media_dir: Path = Path("media")
    media_max_image_bytes: int = Field(10 * 1024 * 1024, ge=1)
    media_max_video_bytes: int = Field(100 * 1024 * 1024, ge=1)
    discussion_edit_window_seconds: int = Field(15 * 60, ge=0)
    # Images in lesson HTML: our own /media/ files, Cloudinary's delivery URLs for CLOUDINARY_URL's
    # cloud, and these URL prefixes (comma-separated, e.g. "https://images.example.com/").
    lesson_image_sources: str = ""

    telemetry_tolerance_seconds: float = Field(2.0, ge=0, le=30)
    telemetry_first_heartbeat_max_seconds: int = Field(15, ge=1, le=60)
    # A worker folds what it read over this window in one flush (about `telemetry_batch_size`
    # heartbeats at most, and never longer than a quarter of the claim idle time), so a learner's several
    # heartbeats become one write per document. The document writes are paid per learner and flush, so
    # the longer the window the less a heartbeat costs, most of all when learners are many (overload);
    # 7.5 s (a quarter of the default claim idle time) against 5 s: docs/performance/telemetry-ingest.md,
    # "Rounds of pairs on a steady box; a longer fold window".
    telemetry_fold_window_seconds: float = Field(7.5, ge=0, le=60)
    # A flush costs about one write per
    # document whatever the number of entries in it, so while a worker writes one flush the next one
    # grows; this bound must leave room for that growth or it caps throughput, the more so the more
    # learners share the load (fewer heartbeats each per flush). Behind, a worker fills its flush from
    # the backlog, so the further behind it is the more heartbeats each document write carries
    # (docs/performance/telemetry-ingest.md, "Admission by time, ..., flushes that grow when behind").
    telemetry_batch_size: int = Field(200_000, ge=1, le=200_000)
    # How long a partition's owner may go without reading before a standby worker takes the partition
    # over (its lease, workers/telemetry.py); a stopping worker hands it over at once.
    telemetry_claim_idle_seconds: float = Field(30.0, gt=0)
    # Heartbeats of a stream partition not yet folded past which the api refuses heartbeats (503
    # `overloaded`, a second at a time) until the workers catch up; ~45 bytes of Redis memory each. At
    # least two full flushes: a worker behind folds full flushes from its backlog, and a smaller bound
    # would cost it that coalescing (README, "Time tracking").
    telemetry_max_backlog: int = Field(1_000_000, ge=1)
    # Partitions of the heartbeat stream (app/telemetry/keys.py): more spread ingest over the shards of a
    # Redis Cluster. Every api and worker must use the same number.
    telemetry_partitions: int = Field(1, ge=1, le=64)
    leaderboard_top_n: int = Field(10, ge=1, le=100)
    # The REST leaderboard reuses a course's ranking for this long (the live channel pushes changes).
    leaderboard_cache_seconds: float = Field(2.0, ge=0, le=60)
    # The anonymous catalogue and course pages are cached in each process (app/http/public_cache.py),
    # emptied on every change; entries also expire after this long. 0 turns the cache off.
    public_cache_seconds: float = Field(30.0, ge=0, le=3600)
    run_workers_in_process: bool = True
    # bench/rest only: GET /api/bench/floor answers the anonymous catalogue's bytes from memory, the
    # framework floor the catalogue is measured against. Never on in a deployment.
    bench_floor_route: bool = False

    ws_auth_timeout_seconds: float = Field(2.0, gt=0)
    ws_max_frame_bytes: int = Field(64 * 1024, ge=1024)
    ws_outgoing_queue_size: int = Field(256, ge=1)
    ws_frames_per_second: float = Field(20.0, gt=0)
    ws_frame_burst: int = Field(40, ge=1)
    ws_max_subscriptions: int = Field(100, ge=1)
    ws_max_connections_per_user: int = Field(10, ge=1)
    # Sockets the hub of one api process holds at once; past it a new one is refused before its upgrade
    # (503, Retry-After) so the process keeps descriptors for its stores. 0: the open-file limit less
    # 1,024 (app/descriptors.py).
    ws_max_connections: int = Field(0, ge=0)
    ws_history_size: int = Field(200, ge=1)
    ws_history_ttl_seconds: int = Field(600, ge=1)
    ws_presence_ttl_seconds: float = Field(30.0, gt=0)
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: str = "INFO"

    @field_validator(
        "rate_limit_register",
        "rate_limit_login",
        "rate_limit_login_account",
        "rate_limit_default",
        "rate_limit_ws_connect",
    )
    @classmethod
    def _check_rate_limit(cls, value: str) -> str:
        from limits import parse_many

        parse_many(value)
        return value

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @model_validator(mode="after")
    def _backlog_holds_two_flushes(self) -> Settings:
        if self.telemetry_max_backlog < 2 * self.telemetry_batch_size:
            raise ValueError(
                f"TELEMETRY_MAX_BACKLOG ({self.telemetry_max_backlog}) must be at least twice "
                f"TELEMETRY_BATCH_SIZE ({self.telemetry_batch_size})"
            )
        return self

    @model_validator(mode="after")
    def _cluster_seeds(self) -> Settings:
        if self.redis_cluster_urls:
            seeds = [url.strip() for url in self.redis_cluster_urls.split(",") if url.strip()]
            self.redis_url = cluster_url(seeds)
        return self

    @property
    def uses_embedded_servers(self) -> bool:
        return not (self.database_url and self.redis_url and self.mongo_url)

    @cached_property
    def trusted_proxy_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return tuple(
            ipaddress.ip_network(item.strip(), strict=False)
            for item in self.trusted_proxies.split(",")
            if item.strip()
        )

    @property
    def cors_origin_list(self) -> list[str]:
        return [item.strip() for item in self.cors_origins.split(",") if item.strip()]

    @property
    def google_enabled(self) -> bool:
        return bool(self.google_client_id and self.google_client_secret and self.google_redirect_uri)

    def hub_config(self) -> HubConfig:
        return HubConfig(
            auth_timeout_seconds=self.ws_auth_timeout_seconds,
            max_frame_bytes=self.ws_max_frame_bytes,
            outgoing_queue_size=self.ws_outgoing_queue_size,
            frames_per_second=self.ws_frames_per_second,
            frame_burst=self.ws_frame_burst,
            max_subscriptions=self.ws_max_subscriptions,
            max_connections_per_user=self.ws_max_connections_per_user,
            max_connections=self.ws_max_connections or socket_budget(),
            history_size=self.ws_history_size,
            history_ttl_seconds=self.ws_history_ttl_seconds,
            presence_ttl_seconds=self.ws_presence_ttl_seconds,
            metrics_namespace="learnflow",
        )

    @property
    def has_weak_jwt_secret(self) -> bool:
        return self.jwt_secret == DEFAULT_JWT_SECRET or len(self.jwt_secret) < MIN_JWT_SECRET_LENGTH

    def check_safe_for_production(self) -> None:
        """Refuse to run production with the development secret or a weak one."""
        if self.is_production and self.has_weak_jwt_secret:
            raise UnsafeConfiguration(
                f"JWT_SECRET must be set to a random value of at least {MIN_JWT_SECRET_LENGTH} characters "
                "in production"
            )

    def check_safe_to_serve(self, host: str) -> None:
        """Anyone who can reach the server could sign tokens with a published or short key, so such a key
        is accepted only on a loopback address (development on this machine)."""
        self.check_safe_for_production()
        if self.has_weak_jwt_secret and not is_loopback_host(host):
            raise UnsafeConfiguration(
                f"refusing to listen on {host} with the default or a short JWT_SECRET: set JWT_SECRET to "
                f"a random value of at least {MIN_JWT_SECRET_LENGTH} characters, or listen on 127.0.0.1"
            )

    @property
    def lesson_image_prefixes(self) -> tuple[str, ...]:
        """URL prefixes lesson images may come from, each ending in "/" so a host cannot be extended."""
        prefixes = [item.strip() for item in self.lesson_image_sources.split(",") if item.strip()]
        return tuple(prefix if prefix.endswith("/") else prefix + "/" for prefix in prefixes)
