"""Business time: how many seconds of a contract's service hours lie between two moments,
and the moment a given amount of business time has passed.

A :class:`BusinessCalendar` is one version of a configured calendar
(:class:`services.config.SlaCalendarVersion`), compiled: its service window per local day,
Dutch public holidays from the ``holidays`` package (country NL, Dutch names, the
Bevrijdingsdag and Goede Vrijdag choices applied), and the extra closing days.
:data:`ALWAYS` is the 24x7 calendar.

Everything is computed on UTC instants with whole seconds. A local day's window is turned into
two UTC instants with the calendar's IANA zone, so daylight saving is handled by
:mod:`zoneinfo`: a 24x7 clock over the night of the switch counts 23 or 25 hours, and a window
of 08:00-17:00 is nine hours on both sides of the switch.

>>> from datetime import UTC, datetime
>>> ALWAYS.seconds(datetime(2026, 3, 28, 23, tzinfo=UTC), datetime(2026, 3, 29, 23, tzinfo=UTC))
86400
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays

from services.config import SlaCalendar, SlaCalendarVersion
from services.sla.errors import CalendarError

__all__ = [
    "ALWAYS",
    "BusinessCalendar",
    "closing_days",
    "compile_calendar",
    "from_ts",
    "to_ts",
]

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: an ``add`` that finds no service hours within this many days has a calendar without any
_HORIZON_DAYS = 3660
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_ts(moment: datetime) -> int:
    """Whole seconds since the epoch (sub-second parts are dropped; instants after 1970)."""
    if moment.tzinfo is None:
        raise ValueError("business time needs zone-aware instants")
    return int(moment.timestamp())


def from_ts(ts: int) -> datetime:
    """The UTC instant of epoch seconds ``ts``."""
    return datetime.fromtimestamp(ts, UTC)


@functools.cache
def _dutch_holidays(year: int, bevrijdingsdag: str, good_friday: bool) -> dict[date, str]:
    """The Dutch public holidays of ``year`` with their Dutch names, with the choices applied.

    The package's public category holds Bevrijdingsdag only in lustrum years; its optional
    category holds it every year. Goede Vrijdag is left out unless ``good_friday``.
    """
    public = holidays.country_holidays("NL", years=year, language="nl")
    days = {day: str(name) for day, name in public.items()}
    if bevrijdingsdag == "every_year":
        optional = holidays.country_holidays(
            "NL", years=year, language="nl", categories=("optional",)
        )
        days.update(
            {day: str(name) for day, name in optional.items() if (day.month, day.day) == (5, 5)}
        )
    if not good_friday:
        days = {day: name for day, name in days.items() if "goede vrijdag" not in name.lower()}
    return days


def closing_days(version: SlaCalendarVersion, year: int) -> dict[date, str]:
    """Every day of ``year`` the calendar is closed although its window would be open:
    public holidays (Dutch names) and the contract's own closing days."""
    days: dict[date, str] = {}
    if version.public_holidays:
        days.update(_dutch_holidays(year, version.bevrijdingsdag, version.good_friday))
    for day in version.closing_days:
        if day.year == year:
            days.setdefault(day, "sluitingsdag (contract)")
    return days


class BusinessCalendar:
    """Service hours of one calendar version; ``label`` names it in events and reports."""

    def __init__(self, version: SlaCalendarVersion | None, label: str) -> None:
        self.label = label
        self.version = version
        self.always = version is None or version.hours == "24x7"
        self._zone = ZoneInfo(version.timezone) if version is not None else ZoneInfo("UTC")
        self._days: dict[date, tuple[int, int] | None] = {}
        self._closed: dict[int, dict[date, str]] = {}

    def __repr__(self) -> str:
        return f"BusinessCalendar({self.label!r})"

    # -- the window of one local day -------------------------------------------------------

    def closed_reason(self, day: date) -> str | None:
        """Why ``day`` has no service hours although its weekday has (a holiday's Dutch
        name, or a contract closing day), else None."""
        if self.version is None:
            return None
        closed = self._closed.get(day.year)
        if closed is None:
            closed = self._closed[day.year] = closing_days(self.version, day.year)
        return closed.get(day)

    def _window(self, day: date) -> tuple[int, int] | None:
        """The service hours of local ``day`` as UTC epoch seconds [open, close)."""
        found = self._days.get(day, False)
        if found is not False:
            return found  # type: ignore[return-value]
        version = self.version
        assert version is not None
        window = version.window
        result: tuple[int, int] | None = None
        if _WEEKDAYS[day.weekday()] in window.days and self.closed_reason(day) is None:
            opens = datetime.combine(day, window.start, tzinfo=self._zone)
            closes = datetime.combine(day, window.end, tzinfo=self._zone)
            result = (to_ts(opens), to_ts(closes))
        self._days[day] = result
        return result

    def _local_day(self, ts: int) -> date:
        return from_ts(ts).astimezone(self._zone).date()

    # -- arithmetic ------------------------------------------------------------------------

    def seconds(self, start: datetime, end: datetime) -> int:
        """Business seconds in [start, end); 0 when end is not after start."""
        return self.seconds_ts(to_ts(start), to_ts(end))

    def seconds_ts(self, start: int, end: int) -> int:
        if end <= start:
            return 0
        if self.always:
            return end - start
        total = 0
        day = self._local_day(start)
        last = self._local_day(end)
        one = timedelta(days=1)
        while day <= last:
            window = self._window(day)
            if window is not None:
                lo = max(window[0], start)
                hi = min(window[1], end)
                if hi > lo:
                    total += hi - lo
            day += one
        return total

    def add(self, start: datetime, seconds: int) -> datetime:
        """The first instant at which ``seconds`` of business time have passed since
        ``start`` (``start`` itself for 0)."""
        return from_ts(self.add_ts(to_ts(start), seconds))

    def add_ts(self, start: int, seconds: int) -> int:
        if seconds <= 0:
            return start
        if self.always:
            return start + seconds
        remaining = seconds
        day = self._local_day(start)
        one = timedelta(days=1)
        for _ in range(_HORIZON_DAYS):
            window = self._window(day)
            if window is not None:
                lo = max(window[0], start)
                if window[1] > lo:
                    available = window[1] - lo
                    if remaining <= available:
                        return lo + remaining
                    remaining -= available
            day += one
        raise CalendarError(f"calendar {self.label!r} has no service hours for ten years")

    def is_open(self, moment: datetime) -> bool:
        """Whether the calendar's service hours include ``moment``."""
        ts = to_ts(moment)
        return self.seconds_ts(ts, ts + 1) == 1


#: the 24x7 calendar: every second counts
ALWAYS = BusinessCalendar(None, "24x7")


def compile_calendar(calendar: SlaCalendar, opened: datetime) -> BusinessCalendar:
    """The version of ``calendar`` in force on the local day ``opened`` falls on: a ticket
    keeps it for life (a later version applies to tickets opened from its date on)."""
    first = calendar.versions[0]
    day = opened.astimezone(ZoneInfo(first.timezone)).date()
    version = calendar.version_at(day)
    key = (calendar.id, version.model_dump_json())
    found = _COMPILED.get(key)
    if found is None:
        found = _COMPILED[key] = BusinessCalendar(
            version, f"{calendar.id}@{version.effective_from}"
        )
    return found


_COMPILED: dict[tuple[str, str], BusinessCalendar] = {}
