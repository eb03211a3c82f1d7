"""Blackout periods and maintenance windows across the daylight-saving switches.

2027: clocks go forward on Sunday 28 March (02:00 CET -> 03:00 CEST) and back on Sunday
31 October (03:00 CEST -> 02:00 CET). The oracles compare wall-clock times (what the
gemeente agreed) instead of computing UTC instants.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from services.changes.windows import blackouts_hit, in_maintenance_window, window_occurrences
from services.config.changes import Blackout, MaintenanceWindow

AMS = ZoneInfo("Europe/Amsterdam")
NIGHT = MaintenanceWindow(days=["sat"], start=time(22), end=time(6))
MORNING = MaintenanceWindow(days=["sun"], start=time(1), end=time(4))
SPRING = datetime(2027, 3, 27, 12, tzinfo=UTC)
AUTUMN = datetime(2027, 10, 30, 12, tzinfo=UTC)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_the_night_the_clocks_go_forward_lasts_seven_hours() -> None:
    [(low, high)] = window_occurrences(NIGHT, date(2027, 3, 27), date(2027, 3, 27), AMS)
    assert (low, high) == (utc("2027-03-27T21:00"), utc("2027-03-28T04:00"))
    [(low, high)] = window_occurrences(NIGHT, date(2027, 10, 30), date(2027, 10, 30), AMS)
    assert high - low == timedelta(hours=9)


def test_window_end_is_local_time_after_the_switch() -> None:
    # 06:30 CEST on 28 March is 04:30 UTC: after the window (a fixed +01:00 would accept it)
    assert not in_maintenance_window(utc("2027-03-27T21:30"), utc("2027-03-28T04:30"), [NIGHT], AMS)
    assert in_maintenance_window(utc("2027-03-27T21:30"), utc("2027-03-28T03:55"), [NIGHT], AMS)
    # in autumn the night is longer: 05:30 CET on 31 October is 04:30 UTC, inside
    assert in_maintenance_window(utc("2027-10-30T20:00"), utc("2027-10-31T04:30"), [NIGHT], AMS)
    # 21:30 CEST on 30 October is 19:30 UTC: before the window opens
    assert not in_maintenance_window(utc("2027-10-30T19:30"), utc("2027-10-30T23:00"), [NIGHT], AMS)


def test_a_window_edge_in_the_skipped_hour() -> None:
    # 01:00-04:00 on 28 March: 00:00 UTC to 02:00 UTC (two real hours)
    [(low, high)] = window_occurrences(MORNING, date(2027, 3, 28), date(2027, 3, 28), AMS)
    assert high - low == timedelta(hours=2)
    skipped = MaintenanceWindow(days=["sun"], start=time(2, 30), end=time(5))
    [(low, _)] = window_occurrences(skipped, date(2027, 3, 28), date(2027, 3, 28), AMS)
    assert low == utc("2027-03-28T01:30")  # read with the offset before the switch


def test_no_windows_agreed_means_any_time() -> None:
    assert in_maintenance_window(utc("2027-03-03T10:00"), utc("2027-03-03T11:00"), [], AMS)


def _wall_inside(start: datetime, end: datetime, window: MaintenanceWindow) -> bool:
    s = start.astimezone(AMS).replace(tzinfo=None)
    e = end.astimezone(AMS).replace(tzinfo=None)
    day = s.date() - timedelta(days=1)
    names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    while day <= s.date():
        if names[day.weekday()] in window.days:
            low = datetime.combine(day, window.start)
            high_day = day + timedelta(days=1) if window.end <= window.start else day
            high = datetime.combine(high_day, window.end)
            if low <= s and e <= high and start <= end:
                return True
        day += timedelta(days=1)
    return False


moments = st.sampled_from([SPRING, AUTUMN]).flatmap(
    lambda base: st.integers(0, 24 * 12).map(lambda k: base + k * timedelta(minutes=5))
)


@settings(max_examples=400, deadline=None)
@given(start=moments, minutes=st.integers(0, 12 * 60), window=st.sampled_from([NIGHT, MORNING]))
def test_maintenance_windows_agree_with_wall_clock(
    start: datetime, minutes: int, window: MaintenanceWindow
) -> None:
    end = start + timedelta(minutes=minutes)
    if any(_ambiguous(m) for m in (start, end)):
        return  # the repeated hour has no single wall-clock reading
    assert in_maintenance_window(start, end, [window], AMS) == _wall_inside(start, end, window)


def _ambiguous(moment: datetime) -> bool:
    local = moment.astimezone(AMS)
    other = local.replace(fold=1 - local.fold)
    return other.utcoffset() != local.utcoffset()


BLACKOUTS = [
    Blackout(name="Zomertijd", start=date(2027, 3, 28), end=date(2027, 3, 28)),
    Blackout(name="Wintertijd", start=date(2027, 10, 31), end=date(2027, 10, 31)),
]


@settings(max_examples=400, deadline=None)
@given(start=moments, minutes=st.integers(0, 30 * 60))
def test_blackouts_cover_whole_local_days(start: datetime, minutes: int) -> None:
    """A window hits a blackout iff some moment of it falls on that local date."""
    end = start + timedelta(minutes=minutes)
    hit = {b.name for b in blackouts_hit(start, end, BLACKOUTS, AMS)}
    expected = set()
    step = start
    while step < end or step == start:
        local_day = step.astimezone(AMS).date()
        expected |= {b.name for b in BLACKOUTS if b.start <= local_day <= b.end}
        step += timedelta(minutes=1)
        if step >= end:
            break
    assert hit == expected


def test_the_long_autumn_day_is_blacked_out_for_25_hours() -> None:
    inside = blackouts_hit(utc("2027-10-31T22:59"), utc("2027-10-31T22:59"), BLACKOUTS, AMS)
    assert [b.name for b in inside] == ["Wintertijd"]  # 23:59 CET
    after = blackouts_hit(utc("2027-10-31T23:00"), utc("2027-10-31T23:30"), BLACKOUTS, AMS)
    assert after == []
    before = blackouts_hit(utc("2027-10-30T21:00"), utc("2027-10-30T22:00"), BLACKOUTS, AMS)
    assert before == []  # 23:00-24:00 CEST on the 30th
