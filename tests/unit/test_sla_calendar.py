"""Business-time arithmetic against an independent brute-force oracle, minute by minute.

The oracle knows nothing of :mod:`services.sla.calendar`: it walks every minute of an
interval, turns it into local time with :mod:`zoneinfo`, and asks whether that minute lies in
the window on a weekday that is not a holiday (its own reading of the ``holidays`` package).
Intervals are drawn around weekends, Dutch holidays and both daylight-saving switches.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.config import ServiceWindow, SlaCalendar, SlaCalendarVersion
from services.sla.calendar import ALWAYS, BusinessCalendar, compile_calendar

AMS = ZoneInfo("Europe/Amsterdam")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

#: moments where the interesting things happen: DST switches, holidays, weekends, new year
ANCHORS = [
    datetime(2025, 3, 29, 12, tzinfo=UTC),  # weekend before the spring switch
    datetime(2025, 10, 25, 12, tzinfo=UTC),  # weekend of the autumn switch
    datetime(2026, 3, 28, 12, tzinfo=UTC),
    datetime(2026, 10, 24, 12, tzinfo=UTC),
    datetime(2025, 4, 16, 12, tzinfo=UTC),  # Goede Vrijdag, Pasen, Koningsdag (26 April)
    datetime(2025, 5, 3, 12, tzinfo=UTC),  # Bevrijdingsdag in a lustrum year
    datetime(2026, 5, 3, 12, tzinfo=UTC),  # ... and outside one
    datetime(2026, 4, 25, 12, tzinfo=UTC),  # Koningsdag on Monday 27 April
    datetime(2025, 12, 23, 12, tzinfo=UTC),  # Kerst, new year
]


@functools.cache
def _nl_holidays(year: int) -> dict[date, str]:
    return {day: str(name) for day, name in holidays.NL(years=year, language="nl").items()}


def oracle_open(version: SlaCalendarVersion | None, minute: datetime) -> bool:
    """Is this minute inside the service hours? Minute-level, from first principles."""
    if version is None or version.hours == "24x7":
        return True
    local = minute.astimezone(ZoneInfo(version.timezone))
    day = local.date()
    if DAYS[day.weekday()] not in version.window.days:
        return False
    if not (version.window.start <= local.time().replace(second=0) < version.window.end):
        return False
    if day in version.closing_days:
        return False
    if version.public_holidays:
        names = _nl_holidays(day.year)
        if day.month == 5 and day.day == 5:
            return version.bevrijdingsdag != "every_year" and day.year % 5 != 0
        name = names.get(day)
        if name is not None and (version.good_friday or "vrijdag" not in name.lower()):
            return False
    return True


def oracle_seconds(version: SlaCalendarVersion | None, start: datetime, end: datetime) -> int:
    minutes = 0
    t = start
    while t < end:
        minutes += oracle_open(version, t)
        t += timedelta(minutes=1)
    return minutes * 60


windows = st.builds(
    lambda days, hours: ServiceWindow(days=days, start=hours[0], end=hours[1]),
    st.lists(st.sampled_from(DAYS), min_size=1, max_size=7, unique=True),
    st.tuples(
        st.sampled_from([time(0, 0), time(7, 30), time(8, 0), time(1, 30)]),
        st.sampled_from([time(17, 0), time(23, 59), time(18, 15), time(3, 0)]),
    ).filter(lambda hours: hours[0] < hours[1]),
)

versions = st.builds(
    SlaCalendarVersion,
    effective_from=st.just(date(2024, 1, 1)),
    timezone=st.just("Europe/Amsterdam"),
    hours=st.sampled_from(["window", "window", "window", "24x7"]),
    window=windows,
    public_holidays=st.booleans(),
    bevrijdingsdag=st.sampled_from(["every_year", "lustrum"]),
    good_friday=st.booleans(),
    closing_days=st.lists(
        st.dates(min_value=date(2025, 3, 25), max_value=date(2026, 12, 31)), max_size=4
    ),
)

starts = st.builds(
    lambda anchor, offset: anchor + timedelta(minutes=offset),
    st.sampled_from(ANCHORS),
    st.integers(min_value=-3 * 1440, max_value=3 * 1440),
)


def calendar_of(version: SlaCalendarVersion) -> BusinessCalendar:
    return compile_calendar(SlaCalendar(id="test", versions=[version]), datetime(2025, 1, 1))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(version=versions, start=starts, length=st.integers(min_value=0, max_value=5 * 1440))
def test_seconds_equal_the_minute_by_minute_oracle(
    version: SlaCalendarVersion, start: datetime, length: int
) -> None:
    end = start + timedelta(minutes=length)
    assert calendar_of(version).seconds(start, end) == oracle_seconds(version, start, end)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(version=versions, start=starts, minutes=st.integers(min_value=1, max_value=3 * 540))
def test_add_lands_on_the_first_minute_with_that_much_business_time(
    version: SlaCalendarVersion, start: datetime, minutes: int
) -> None:
    calendar = calendar_of(version)
    due = calendar.add(start, minutes * 60)
    # the oracle walks forward minute by minute until it has counted that many open minutes
    t, counted = start, 0
    while counted < minutes:
        counted += oracle_open(version, t)
        t += timedelta(minutes=1)
    assert due == t


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    version=versions,
    start=starts,
    cuts=st.lists(st.integers(min_value=0, max_value=4 * 1440), min_size=2, max_size=8),
)
def test_a_clock_with_pauses_counts_only_its_running_minutes(
    version: SlaCalendarVersion, start: datetime, cuts: list[int]
) -> None:
    """Running and paused stretches alternate at random cut points; the sum over the running
    ones equals the oracle's count of minutes that are open and not paused."""
    points = sorted(set(cuts))
    calendar = calendar_of(version)
    running = [
        (start + timedelta(minutes=a), start + timedelta(minutes=b))
        for a, b in zip(points[::2], points[1::2], strict=False)
    ]
    total = sum(calendar.seconds(a, b) for a, b in running)
    expected = 0
    t = start + timedelta(minutes=points[0])
    while t < start + timedelta(minutes=points[-1]):
        if any(a <= t < b for a, b in running) and oracle_open(version, t):
            expected += 60
        t += timedelta(minutes=1)
    assert total == expected


def test_dst_nights_have_23_and_25_hours_on_a_24x7_clock() -> None:
    spring = (datetime(2026, 3, 29, tzinfo=AMS), datetime(2026, 3, 30, tzinfo=AMS))
    autumn = (datetime(2026, 10, 25, tzinfo=AMS), datetime(2026, 10, 26, tzinfo=AMS))
    assert ALWAYS.seconds(*spring) == 23 * 3600
    assert ALWAYS.seconds(*autumn) == 25 * 3600


@pytest.mark.parametrize(
    ("choice", "year", "closed"),
    [("every_year", 2026, True), ("lustrum", 2026, False), ("lustrum", 2025, True)],
)
def test_bevrijdingsdag_is_an_explicit_choice(choice: str, year: int, closed: bool) -> None:
    version = SlaCalendarVersion(
        effective_from=date(2024, 1, 1), bevrijdingsdag=choice, good_friday=False
    )
    calendar = calendar_of(version)
    day = date(year, 5, 5)
    if day.weekday() >= 5:
        pytest.skip("5 May falls in a weekend")
    assert (calendar.closed_reason(day) == "Bevrijdingsdag") is closed
    noon = datetime.combine(day, time(12), tzinfo=AMS)
    assert calendar.is_open(noon) is not closed


def test_holidays_have_their_dutch_names() -> None:
    version = SlaCalendarVersion(
        effective_from=date(2024, 1, 1), bevrijdingsdag="every_year", good_friday=True
    )
    calendar = calendar_of(version)
    assert calendar.closed_reason(date(2026, 4, 27)) == "Koningsdag"
    assert calendar.closed_reason(date(2026, 12, 25)) == "Eerste kerstdag"
    assert calendar.closed_reason(date(2026, 4, 3)) == "Goede vrijdag"


def test_a_ticket_keeps_the_calendar_version_it_opened_under() -> None:
    old = SlaCalendarVersion(
        effective_from=date(2024, 1, 1), bevrijdingsdag="every_year", good_friday=False
    )
    new = old.model_copy(update={"effective_from": date(2026, 7, 1), "hours": "24x7"})
    calendar = SlaCalendar(id="werkdagen", versions=[old, new])
    before = compile_calendar(calendar, datetime(2026, 6, 30, 21, 59, tzinfo=UTC))
    after = compile_calendar(calendar, datetime(2026, 6, 30, 22, 0, tzinfo=UTC))  # 1 July local
    assert not before.always
    assert after.always
    assert after.label == "werkdagen@2026-07-01"
