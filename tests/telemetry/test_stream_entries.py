"""Stream entries as the worker reads them (app/telemetry/stream.py, `parse_entries`): the packed form
the api writes, the one-field-per-value form of older versions, and entries that are not heartbeats."""

from __future__ import annotations

from app.telemetry.stream import PACKED, Entry, parse_entries


def test_a_packed_entry_is_read_whole_with_a_lesson_id_holding_the_separator() -> None:
    raw = [("1764921600000-3", {PACKED: "15|1764921600123|42|7|9|intro|part 2"})]

    assert parse_entries(0, raw) == [Entry("1764921600000-3", 42, 7, "intro|part 2", 15, 1764921600123, 9)]


def test_an_entry_of_an_older_version_is_read_too() -> None:
    raw = [
        ("5-0", {"u": "42", "c": "7", "l": "L1", "s": "15", "t": "1000", "e": "9"}),
        ("6-0", {"u": "42", "c": "7", "l": "L1", "s": "15", "t": "1000"}),  # before enrollments were noted
    ]

    assert parse_entries(3, raw) == [
        Entry("3/5-0", 42, 7, "L1", 15, 1000, 9),
        Entry("3/6-0", 42, 7, "L1", 15, 1000, None),
    ]


def test_entries_that_are_not_heartbeats_are_skipped_and_the_rest_kept() -> None:
    raw = [
        ("1-0", {PACKED: "15|1000|42|7|9"}),  # a value missing
        ("2-0", {PACKED: "x|1000|42|7|9|L1"}),  # not a number
        ("3-0", {"other": "field"}),
        ("4-0", {}),  # deleted while pending
        ("5-0", {PACKED: "1|1000|42|7|9|L1"}),
    ]

    assert parse_entries(0, raw) == [Entry("5-0", 42, 7, "L1", 1, 1000, 9)]


def test_an_entry_of_several_heartbeats_gives_each_its_own_id_and_skips_what_is_not_one() -> None:
    raw = [
        (
            "1764921600000-3",
            {
                PACKED: "15|1000|42|7|9|L1",
                "1": "5|1001|43|7|10|L2",
                "2": "x|1001|44|7|11|L2",  # not a number: skipped, the others kept
                "0": "5|1001|45|7|12|L2",  # no such record number (the first is PACKED)
                "3": "1|1002|46|8|13|L|3",
            },
        )
    ]

    assert parse_entries(2, raw) == [
        Entry("2/1764921600000-3", 42, 7, "L1", 15, 1000, 9),
        Entry("2/1764921600000-3.1", 43, 7, "L2", 5, 1001, 10),
        Entry("2/1764921600000-3.3", 46, 8, "L|3", 1, 1002, 13),
    ]
