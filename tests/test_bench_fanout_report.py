"""The fan-out bench's headline with several rounds (`--rounds`): each server's median CPU per frame,
ratios of those medians, and the hub/broadcaster ratio of every round beside them."""

from __future__ import annotations

from bench._measure import Phase
from bench.fanout.__main__ import report


def phase(server: str, cpu_us: float, round_no: int, handshake: str = "plain") -> Phase:
    return Phase(
        server=server,
        n=2000,
        rate=10.0,
        connected=2000,
        connect_seconds=1.0,
        published=10,
        published_in_window=10,
        window=1.0,
        in_window=20000,
        latencies=[0.010] * 99 + [0.050],
        closes={},
        lost=0,
        cpu=0.2,
        cpu_per_frame=cpu_us / 1e6,
        loadgen_cpu=0.2,
        handshake=handshake,
        round=round_no,
    )


def headline_row(text: str, handshake: str) -> list[str]:
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if cells[0] == handshake and len(cells) == 11:
            return cells
    raise AssertionError(f"no headline row for {handshake}:\n{text}")


def test_the_headline_is_of_medians_with_each_rounds_ratio_beside() -> None:
    phases = [
        phase(server, cpu, round_no)
        for round_no, figures in enumerate([(12.0, 30.0, 9.0), (10.0, 40.0, 8.0), (11.0, 33.0, 10.0)])
        for server, cpu in zip(("hub", "broadcaster", "floor"), figures, strict=True)
    ]
    row = headline_row(report(phases, []), "plain")
    assert row[3:6] == ["11.0", "33.0", "9.0"]  # medians: hub, broadcaster, floor
    assert row[6:8] == ["0.33x", "1.22x"]  # 11/33 and 11/9
    assert row[10] == "0.40x 0.25x 0.33x"  # round by round: 12/30, 10/40, 11/33


def test_one_round_reports_its_own_figures() -> None:
    phases = [phase("hub", 12.0, 0, "browser"), phase("broadcaster", 48.0, 0, "browser")]
    row = headline_row(report(phases, []), "browser")
    assert row[3:7] == ["12.0", "48.0", "-", "0.25x"]
    assert row[10] == "0.25x"
