"""The change calendar in the regie's cockpit: week and month pages per gemeente and per
supplier with findings marked, and the calendar and findings as JSON and iCalendar.

The pages join the cockpit through its page kit (``services.feed.web.PageKit``: the app,
the template environment, the page renderer and the caller dependency), which the
composition root hands to the feed; this module imports nothing of the feed and reads the
calendar from the store (:class:`~services.changes.store.ChangeStore`), so the cockpit may
run in another process than the changes service.

Who sees what: the regie sees every change; an FB account or token only the changes that
affect its own gemeente, and only findings about its own gemeente.

* ``GET /wijzigingen?weergave=week|maand&datum=YYYY-MM-DD&gemeente=&leverancier=``
* ``GET /api/v1/changes/calendar?from=&to=&gemeente=&supplier=&format=json|ics``
* ``GET /api/v1/changes/findings?since=&gemeente=``
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol
from zoneinfo import ZoneInfo

import orjson
from fastapi import Depends, FastAPI, Query, Request, Response
from jinja2 import ChoiceLoader, Environment, FileSystemLoader

from schemas.changes import ChangeFinding
from services.changes.store import ChangeStore, StoreState
from services.changes.text import when
from services.changes.views import Entry, active_findings, entries, to_ics, to_json
from services.config import SchakelConfig

__all__ = ["CockpitKit", "Viewer", "cockpit_pages"]

HERE = Path(__file__).parent
_DAYS = ("ma", "di", "wo", "do", "vr", "za", "zo")
_MONTHS = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)
_KIND_NL = {
    "collision": "Botsing",
    "blackout": "Blackout",
    "outside_maintenance_window": "Buiten onderhoudsvenster",
    "emergency": "Spoedwijziging",
    "unapproved_start": "Zonder goedkeuring",
    "overrun": "Uitloop",
}


class Viewer(Protocol):
    """The signed-in caller as the cockpit knows it."""

    @property
    def is_regie(self) -> bool: ...

    @property
    def gemeente(self) -> str | None: ...


class CockpitKit(Protocol):
    """The cockpit's page kit, as far as these pages use it."""

    @property
    def app(self) -> FastAPI: ...

    @property
    def env(self) -> Environment: ...

    @property
    def page(self) -> Callable[..., Response]: ...

    @property
    def principal(self) -> Callable[[Request], Awaitable[Any]]: ...

    def add_nav(self, path: str, label: str, *, regie_only: bool = False) -> None: ...


@dataclass(frozen=True, slots=True)
class _Day:
    day: date
    in_month: bool
    items: list[tuple[Entry, str]]  # the entry and its time on that day


class _Source:
    """The store, opened on first use (one engine per cockpit)."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._store: ChangeStore | None = None
        self._lock = asyncio.Lock()

    async def state(self) -> StoreState:
        async with self._lock:
            if self._store is None:
                self._store = await ChangeStore.open(self._url)
        return await self._store.load()


def cockpit_pages(config: SchakelConfig, store_url: str) -> Callable[[CockpitKit], None]:
    """The installer of the calendar pages, for the cockpit's ``pages``."""
    source = _Source(store_url)
    zone = ZoneInfo(config.changes.timezone)
    gemeenten = {g.code: g for g in config.gemeenten}

    def install(kit: CockpitKit) -> None:
        env = kit.env
        assert env.loader is not None
        env.loader = ChoiceLoader([env.loader, FileSystemLoader(HERE / "templates")])
        env.globals.update(CHANGE_KIND_NL=_KIND_NL)
        kit.add_nav("/wijzigingen", "Wijzigingen")
        app = kit.app
        # a default, not an annotation: the dependency is the kit's, known only here
        signed_in: Any = Depends(kit.principal)

        def scope(who: Viewer, gemeente: str | None) -> str | None:
            """The gemeente shown: the regie's choice (None: all); an FB caller's own, and
            for one without a gemeente a code no change affects (nothing shown)."""
            if who.is_regie:
                return gemeente or None
            return who.gemeente or "GM----"

        @app.get("/wijzigingen", include_in_schema=False)
        async def calendar_page(
            request: Request,
            weergave: Literal["week", "maand"] = "week",
            datum: date | None = None,
            gemeente: str | None = None,
            leverancier: str | None = None,
            who: Any = signed_in,
        ) -> Response:
            viewer: Viewer = who
            code = scope(viewer, gemeente)
            today = datetime.now(zone).date()
            anchor = datum or today
            if weergave == "week":
                first = anchor - timedelta(days=anchor.weekday())
                last = first + timedelta(days=6)
                previous, following = first - timedelta(days=7), first + timedelta(days=7)
                title = f"Week {first.isocalendar().week}, {first:%d-%m} t/m {last:%d-%m-%Y}"
            else:
                month_start = anchor.replace(day=1)
                next_month = (month_start + timedelta(days=32)).replace(day=1)
                first = month_start - timedelta(days=month_start.weekday())
                last = next_month - timedelta(days=1)
                last = last + timedelta(days=6 - last.weekday())
                previous = (month_start - timedelta(days=1)).replace(day=1)
                following = next_month
                title = f"{_MONTHS[month_start.month - 1]} {month_start.year}"
            low = _midnight(first, zone)
            high = _midnight(last + timedelta(days=1), zone)
            state = await source.state()
            found = entries(state, low, high, gemeente=code, supplier=leverancier or None)
            days = _days(found, first, last, anchor, weergave, zone)
            findings = _visible(active_findings(state, since=low, gemeente=code), found)
            context = {
                "weergave": weergave,
                "title": title,
                "weeks": [days[i : i + 7] for i in range(0, len(days), 7)],
                "day_names": _DAYS,
                "today": today,
                "previous": previous.isoformat(),
                "following": following.isoformat(),
                "anchor": anchor.isoformat(),
                "filters": {"gemeente": code or "", "leverancier": leverancier or ""},
                "findings": findings,
                "entries": found,
                "zone": zone,
                "when": when,
                "gemeente_names": {c: g.name for c, g in gemeenten.items()},
                "supplier_ids": [s.id for s in config.suppliers],
            }
            return kit.page(request, who, "wijzigingen.html", context)

        @app.get("/api/v1/changes/calendar", summary="Wijzigingskalender (format=ics: iCalendar)")
        async def api_calendar(
            start: Annotated[date | None, Query(alias="from")] = None,
            end: Annotated[date | None, Query(alias="to")] = None,
            gemeente: str | None = None,
            supplier: str | None = None,
            format: Literal["json", "ics"] = "json",
            who: Any = signed_in,
        ) -> Response:
            code = scope(who, gemeente)
            first = start or datetime.now(zone).date()
            last = end or first + timedelta(days=28)
            state = await source.state()
            found = entries(
                state,
                _midnight(first, zone),
                _midnight(last + timedelta(days=1), zone),
                gemeente=code,
                supplier=supplier or None,
            )
            if format == "ics":
                name = "Wijzigingen" + (f" {gemeenten[code].name}" if code in gemeenten else "")
                body = to_ics(found, name=name, zone=zone, now=datetime.now(UTC))
                return Response(body, media_type="text/calendar; charset=utf-8")
            return Response(to_json(found), media_type="application/json")

        @app.get("/api/v1/changes/findings", summary="Bevindingen over geplande wijzigingen")
        async def api_findings(
            since: date | None = None,
            gemeente: str | None = None,
            who: Any = signed_in,
        ) -> Response:
            code = scope(who, gemeente)
            state = await source.state()
            moment = _midnight(since, zone) if since else None
            found = active_findings(state, since=moment, gemeente=code)
            body = orjson.dumps(
                {"items": [f.model_dump(mode="json") for f in found]}, option=orjson.OPT_UTC_Z
            )
            return Response(body, media_type="application/json")

    return install


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def _days(
    found: list[Entry], first: date, last: date, anchor: date, view: str, zone: ZoneInfo
) -> list[_Day]:
    out = []
    day = first
    while day <= last:
        low, high = _midnight(day, zone), _midnight(day + timedelta(days=1), zone)
        items = []
        for entry in found:
            start, end = entry.change.planned_start, entry.change.planned_end
            assert start is not None and end is not None
            if start < high and (end > low or start == end == low):
                begins = start.astimezone(zone)
                shown = f"{begins:%H:%M}" if begins.date() == day else "…"
                items.append((entry, shown))
        in_month = view == "week" or day.month == anchor.month
        out.append(_Day(day, in_month, items))
        day += timedelta(days=1)
    return out


def _visible(findings: list[ChangeFinding], found: list[Entry]) -> list[ChangeFinding]:
    """The findings about changes on the page."""
    shown = {e.change.hub_id for e in found}
    return [f for f in findings if any(c.hub_id in shown for c in f.changes)]
