"""Blackout periods and agreed maintenance windows, in local time. Plain functions.

Everything the config says in wall-clock terms (a window "saturday 22:00-06:00", a blackout
day) is turned into UTC instants per occurrence with :mod:`zoneinfo`, so the rules hold
across daylight-saving switches: the window of the night the clocks go forward lasts seven
hours, of the night they go back nine. A window edge that falls in the skipped hour is
read with the offset before the switch (02:30 on the last Sunday of March is 03:30 CEST);
one in the repeated hour is its first occurrence.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.config.changes import WEEKDAYS, Blackout, MaintenanceWindow

__all__ = [
    "blackout_bounds",
    "blackouts_hit",
    "in_maintenance_window",
    "local_instant",
    "window_occurrences",
]


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of wall-clock ``at`` on ``day`` in ``zone``."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def blackout_bounds(blackout: Blackout, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) in UTC: from local midnight of the first day to that after the last."""
    return (
        local_instant(blackout.start, time(0), zone),
        local_instant(blackout.end + timedelta(days=1), time(0), zone),
    )


def blackouts_hit(
    start: datetime, end: datetime, blackouts: Sequence[Blackout], zone: ZoneInfo
) -> list[Blackout]:
    """The blackouts the window [start, end) touches (a zero-length window: its instant)."""
    hit = []
    for blackout in blackouts:
        low, high = blackout_bounds(blackout, zone)
        if start < high and (end > low or (end == start and start >= low)):
            hit.append(blackout)
    return hit


def window_occurrences(
    window: MaintenanceWindow, first: date, last: date, zone: ZoneInfo
) -> Iterator[tuple[datetime, datetime]]:
    """The window's occurrences starting on local days ``first`` to ``last``, in UTC."""
    days = {WEEKDAYS[d] for d in window.days}
    overnight = window.end <= window.start
    day = first
    while day <= last:
        if day.weekday() in days:
            ends_on = day + timedelta(days=1) if overnight else day
            yield local_instant(day, window.start, zone), local_instant(ends_on, window.end, zone)
        day += timedelta(days=1)


def in_maintenance_window(
    start: datetime, end: datetime, windows: Sequence[MaintenanceWindow], zone: ZoneInfo
) -> bool:
    """Whether [start, end] lies inside one occurrence of one of ``windows``.

    No windows agreed means any time is allowed.
    """
    if not windows:
        return True
    local_day = start.astimezone(zone).date()
    first = local_day - timedelta(days=1)  # an overnight window of the day before
    for window in windows:
        for low, high in window_occurrences(window, first, local_day, zone):
            if low <= start and end <= high:
                return True
    return False
