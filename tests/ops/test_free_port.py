"""free_port: ports for servers we start, chosen where no outgoing connection can take them first."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from app.stores import embedded
from app.stores.embedded import free_port


def _ephemeral_range() -> tuple[int, int]:
    low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
    return int(low), int(high)


def test_ports_are_outside_the_ephemeral_range_and_never_repeat() -> None:
    low, high = _ephemeral_range()
    ports = [free_port() for _ in range(300)]
    assert len(set(ports)) == len(ports)
    assert all(not low <= port <= high for port in ports), [p for p in ports if low <= p <= high]


def test_a_port_something_listens_on_is_not_handed_out(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        taken = listener.getsockname()[1]
        monkeypatch.setattr(embedded, "_handed_out", set())
        monkeypatch.setattr(embedded, "_picking_range", lambda: (taken, taken + 1))
        port = free_port()
        assert port != taken
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
            server.bind(("127.0.0.1", port))


@pytest.mark.parametrize(
    ("ephemeral", "expected"),
    [
        ("32768\t60999\n", (20000, 32768)),
        ("1024 60999", (61000, 65536)),
        ("1024 65535", (20000, 65536)),
        ("not numbers", (20000, 32768)),
    ],
)
def test_the_picking_range_avoids_the_ephemeral_one_where_it_can(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ephemeral: str, expected: tuple[int, int]
) -> None:
    settings = tmp_path / "ip_local_port_range"
    settings.write_text(ephemeral)
    monkeypatch.setattr(embedded, "_EPHEMERAL_RANGE", settings)
    assert embedded._picking_range() == expected
