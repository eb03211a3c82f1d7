"""The ``changes:`` section of the hub config: the change calendar's margins, notices and the
gemeenten's blackout periods and agreed maintenance windows.

Times of day and dates are local to ``timezone`` (Europe/Amsterdam): a maintenance window
"saturday 22:00-06:00" is 22:00 Dutch time in winter and in summer, and a blackout
``2027-03-17`` to ``2027-03-17`` is that whole Dutch day. A window whose end is not after its
start runs past midnight into the next day.

.. code-block:: yaml

    changes:
      margin_minutes: 60          # windows less than this apart still collide
      notice_days: 3              # FB teams hear of a change this many days ahead
      gemeenten:
        GM0505:
          maintenance_windows:
            - {days: [sat, sun], start: "22:00", end: "06:00"}
          blackouts:
            - {name: Gemeenteraadsverkiezingen, start: 2026-03-18, end: 2026-03-18}
"""

from __future__ import annotations

from datetime import date, time
from typing import Annotated, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

__all__ = [
    "WEEKDAYS",
    "Blackout",
    "ChangesConfig",
    "GemeenteChangeRules",
    "MaintenanceWindow",
    "Weekday",
]

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
#: ``date.weekday()`` of each day name
WEEKDAYS: dict[str, int] = {
    d: i for i, d in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
}

_Code = Annotated[str, StringConstraints(pattern=r"^GM[0-9]{4}$")]
_Text = Annotated[str, StringConstraints(min_length=1, max_length=200)]


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise PydanticCustomError(
            "timezone", "unknown IANA time zone {value}", {"value": repr(value)}
        ) from None
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MaintenanceWindow(_Model):
    """An agreed window for changes: on ``days``, from ``start`` to ``end`` (local time);
    an ``end`` not after ``start`` is on the next day."""

    days: list[Weekday] = Field(min_length=1)
    start: time
    end: time


class Blackout(_Model):
    """A period without changes, whole local days from ``start`` to ``end`` inclusive."""

    name: _Text
    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end < self.start:
            raise PydanticCustomError(
                "blackout_order",
                "end {end} is before start {start}",
                {"end": str(self.end), "start": str(self.start)},
            )
        return self


class GemeenteChangeRules(_Model):
    """What one gemeente agreed: windows for changes (none: any time) and blackouts."""

    maintenance_windows: list[MaintenanceWindow] = Field(default_factory=list)
    blackouts: list[Blackout] = Field(default_factory=list)


class ChangesConfig(_Model):
    """The change calendar (``services.changes``)."""

    margin_minutes: int = Field(default=60, ge=0, le=7 * 24 * 60)
    notice_days: int = Field(default=3, ge=0, le=90)
    #: how often time-driven work runs (notices due, overruns, late approvals)
    tick_seconds: float = Field(default=60.0, gt=0)
    #: changes that ended longer ago than this leave the collision check
    lookback_days: int = Field(default=30, ge=0)
    timezone: Annotated[str, AfterValidator(_check_timezone)] = "Europe/Amsterdam"
    gemeenten: dict[_Code, GemeenteChangeRules] = Field(default_factory=dict)
