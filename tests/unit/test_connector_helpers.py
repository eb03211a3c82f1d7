"""Shared connector helpers: datetimes, journals, value maps."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from connectors._journal import split_journal
from connectors._time import parse_datetime
from connectors._valuemap import ValueMap
from connectors.errors import InvalidValue


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2015-11-02 22:04:15", datetime(2015, 11, 2, 22, 4, 15, tzinfo=UTC)),
        ("2021-02-11T06:32:36.303+0000", datetime(2021, 2, 11, 6, 32, 36, 303000, tzinfo=UTC)),
        ("2024-12-29T08:41:23.303+0530", datetime(2024, 12, 29, 3, 11, 23, 303000, tzinfo=UTC)),
        ("2026-03-29T03:30:00+02:00", datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),
        (1700000000000, datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
    ],
)
def test_supplier_datetimes_become_utc(text: object, expected: datetime) -> None:
    assert parse_datetime(text, field="t") == expected


@pytest.mark.parametrize(
    "text", ["gisteren", "0001-01-01T00:00:00+0100", "9999-12-31T23:59:59-01:00", True]
)
def test_unreadable_datetimes_are_invalid_values(text: object) -> None:
    with pytest.raises(InvalidValue):
        parse_datetime(text, field="t")


def test_naive_times_read_in_the_given_zone() -> None:
    got = parse_datetime("2026-07-01 12:00:00", field="t", naive_tz=ZoneInfo("Europe/Amsterdam"))
    assert got == datetime(2026, 7, 1, 10, tzinfo=UTC)


def test_journal_with_impossible_header_date_keeps_the_entry() -> None:
    entries = split_journal("2026-13-45 25:61:00 - Jan (Additional comments)\nhallo", UTC)
    assert [(e.author, e.body, e.created_at) for e in entries] == [("Jan", "hallo", None)]


def test_value_map_overrides_and_folding() -> None:
    vm = ValueMap("status", {"open": 1}, int, {"Wacht  op Klant": "2"})
    assert vm("OPEN") == 1
    assert vm("wacht op klant") == 2
    with pytest.raises(InvalidValue):
        vm("onbekend")
