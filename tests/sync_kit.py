"""Test material for two-way sync: a fake ServiceNow Table API and reply/ticket builders.

:class:`FakeServiceNow` implements the documented subset the sync service uses, behind
Bearer or Basic authentication (the token names the account that writes):

* ``GET /api/now/table/incident/{sys_id}`` -> ``{"result": {...}}`` (raw values);
* ``PATCH /api/now/table/incident/{sys_id}`` with ``comments``, ``work_notes``, ``state``,
  ``hold_reason``, ``close_code``, ``close_notes``, ``impact``, ``urgency``,
  ``correlation_id``, ``correlation_display`` (any other field is refused with 400, to catch
  a translator writing what it should not). State 6 needs close_code and close_notes, state 3
  a hold_reason; leaving 6 or 7 for 1-3 counts a reopen. ``priority`` follows impact x urgency.
  Every write bumps ``sys_mod_count`` and sets ``sys_updated_on`` / ``sys_updated_by``.

Journal fields are sent the way a business rule sends ``getJournalEntry(-1)``: one string of
``"<local time> - <name> (Additional comments|Work notes)\\n<text>\\n\\n"`` entries, newest
first. :meth:`FakeServiceNow.webhook` is the record as the supplier's business-rule webhook
sends it (the echo, when Schakel made the last change); :meth:`FakeServiceNow.emit` produces
it onto the supplier's inbound topic.
"""

from __future__ import annotations

import base64
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest
from fastapi import FastAPI, Request, Response
from sqlalchemy import delete

from schemas import EntityKind, hub_id
from schemas.topics import inbound_topic
from services.messaging import KafkaBatchPublisher, OutboundMessage
from services.sync import Correlation, CorrelationStore, Route
from services.sync._tables import correlation_routes, correlations, replies_applied

__all__ = [
    "BACKENDS",
    "FakeServiceNow",
    "Patch",
    "backend_url",
    "correlation",
    "empty_store",
    "route",
]

_WRITABLE = frozenset(
    {
        "comments",
        "work_notes",
        "state",
        "hold_reason",
        "close_code",
        "close_notes",
        "impact",
        "urgency",
        "correlation_id",
        "correlation_display",
    }
)
_PRIORITY = {
    ("1", "1"): "1",
    ("1", "2"): "2",
    ("1", "3"): "3",
    ("2", "1"): "2",
    ("2", "2"): "3",
    ("2", "3"): "4",
    ("3", "1"): "3",
    ("3", "2"): "4",
    ("3", "3"): "5",
}
_LABELS = {"comments": "Additional comments", "work_notes": "Work notes"}
_AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def _sn_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


@dataclass
class Patch:
    """One PATCH the fake took (or refused, with its status)."""

    sys_id: str
    body: dict[str, Any]
    account: str
    status: int
    headers: dict[str, str]


@dataclass
class _Entry:
    field: str
    at: datetime
    author: str
    text: str


@dataclass
class _Incident:
    fields: dict[str, str]
    journal: list[_Entry] = field(default_factory=list)


class FakeServiceNow:
    """A ServiceNow instance with incidents, for one supplier id."""

    def __init__(self, supplier: str, tokens: dict[str, str]) -> None:
        self.supplier = supplier
        self.tokens = tokens  # secret (bearer token or user:password) -> account
        self.incidents: dict[str, _Incident] = {}
        self.patches: list[Patch] = []
        self._planned: deque[tuple[int, dict[str, str]]] = deque()
        self._clock = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
        self.app = FastAPI()
        self.app.get("/api/now/table/incident/{sys_id}")(self._get)
        self.app.patch("/api/now/table/incident/{sys_id}")(self._patch)

    # -- test controls --------------------------------------------------------------------

    def fail(self, times: int, *, status: int = 503, retry_after: str | None = None) -> None:
        """The next ``times`` PATCHes fail with ``status`` (and Retry-After)."""
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        self._planned.extend([(status, headers)] * times)

    def accepted(self, sys_id: str | None = None) -> list[Patch]:
        return [p for p in self.patches if p.status == 200 and sys_id in (None, p.sys_id)]

    def now(self) -> datetime:
        """A clock that moves one second per write: every write has its own sys_updated_on."""
        self._clock += timedelta(seconds=1)
        return self._clock

    def create_incident(
        self,
        sys_id: str,
        number: str,
        *,
        title: str = "Zaaksysteem geeft foutmelding bij opslaan",
        impact: str = "2",
        urgency: str = "2",
        by: str = "jan.devries",
    ) -> dict[str, str]:
        at = self.now()
        fields = {
            "sys_id": sys_id,
            "sys_class_name": "incident",
            "number": number,
            "short_description": title,
            "description": "Gebruikers kunnen geen zaken opslaan.",
            "category": "software",
            "state": "1",
            "incident_state": "1",
            "hold_reason": "",
            "impact": impact,
            "urgency": urgency,
            "priority": _PRIORITY[(impact, urgency)],
            "close_code": "",
            "close_notes": "",
            "opened_at": _sn_time(at),
            "resolved_at": "",
            "closed_at": "",
            "reopen_count": "0",
            "sys_created_on": _sn_time(at),
            "sys_updated_on": _sn_time(at),
            "sys_updated_by": by,
            "sys_mod_count": "0",
            "correlation_id": "",
            "correlation_display": "",
        }
        self.incidents[sys_id] = _Incident(fields)
        return self.record(sys_id)

    def supplier_update(self, sys_id: str, *, by: str = "jan.devries", **changes: str) -> None:
        """A change made in the supplier's own tool by one of its agents."""
        status, _ = self._apply(sys_id, dict(changes), by)
        assert status == 200, f"the fake refused the supplier's own change: {status}"

    def hub_id(self, sys_id: str) -> str:
        return hub_id(self.supplier, EntityKind.INCIDENT, sys_id)

    def record(self, sys_id: str) -> dict[str, str]:
        """The record's raw values, journals as display strings (newest entry first)."""
        incident = self.incidents[sys_id]
        out = dict(incident.fields)
        for name in ("comments", "work_notes"):
            entries = [e for e in incident.journal if e.field == name]
            out[name] = "".join(
                f"{e.at.astimezone(_AMSTERDAM):%Y-%m-%d %H:%M:%S} - {e.author} "
                f"({_LABELS[name]})\n{e.text}\n\n"
                for e in reversed(entries)
            )
        return out

    def webhook(self, sys_id: str) -> bytes:
        return orjson.dumps(self.record(sys_id))

    async def emit(self, bootstrap: str, sys_id: str) -> None:
        """The supplier's business rule posts the record to its inbound topic."""
        publisher = KafkaBatchPublisher(bootstrap, client_id="fake-servicenow")
        await publisher.start()
        try:
            number = self.incidents[sys_id].fields["number"]
            await publisher.send_all(
                [
                    OutboundMessage(
                        inbound_topic(self.supplier), self.webhook(sys_id), number.encode()
                    )
                ]
            )
        finally:
            await publisher.stop()

    # -- the API --------------------------------------------------------------------------

    def _account(self, request: Request) -> str | None:
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer":
            return self.tokens.get(value)
        if scheme.lower() == "basic":
            try:
                return self.tokens.get(base64.b64decode(value).decode())
            except ValueError:
                return None
        return None

    async def _get(self, sys_id: str, request: Request) -> Response:
        if self._account(request) is None:
            return _error(401, "User Not Authenticated")
        if sys_id not in self.incidents:
            return _error(404, "No Record found")
        return Response(
            orjson.dumps({"result": self.record(sys_id)}), media_type="application/json"
        )

    async def _patch(self, sys_id: str, request: Request) -> Response:
        account = self._account(request)
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            body = None
        if account is None:
            status, extra = 401, {}
        elif self._planned:
            status, extra = self._planned.popleft()
        elif not isinstance(body, dict):
            status, extra = 400, {}
        else:
            status, extra = self._apply(sys_id, body, account)
        self.patches.append(
            Patch(sys_id, body if isinstance(body, dict) else {}, account or "", status, headers)
        )
        if status != 200:
            return _error(status, "refused", extra)
        return Response(
            orjson.dumps({"result": self.record(sys_id)}), media_type="application/json"
        )

    def _apply(self, sys_id: str, body: dict[str, Any], account: str) -> tuple[int, dict[str, str]]:
        incident = self.incidents.get(sys_id)
        if incident is None:
            return 404, {}
        if set(body) - _WRITABLE or not all(isinstance(v, str) for v in body.values()):
            return 400, {}
        fields = incident.fields
        merged = {**fields, **{k: v for k, v in body.items() if k not in _LABELS}}
        state = merged["state"]
        if state == "6" and not (merged["close_code"] and merged["close_notes"]):
            return 400, {}
        if state == "3" and not merged["hold_reason"]:
            return 400, {}
        at = self.now()
        old_state = fields["state"]
        for name in _LABELS:
            if body.get(name):
                incident.journal.append(_Entry(name, at, account, body[name]))
        fields.update(merged)
        fields["incident_state"] = state
        fields["priority"] = _PRIORITY[(fields["impact"], fields["urgency"])]
        if state != old_state:
            if old_state in ("6", "7") and state in ("1", "2", "3"):
                fields["reopen_count"] = str(int(fields["reopen_count"]) + 1)
                fields["resolved_at"] = ""
            if state == "6":
                fields["resolved_at"] = _sn_time(at)
            if state == "7":
                fields["closed_at"] = _sn_time(at)
        fields["sys_mod_count"] = str(int(fields["sys_mod_count"]) + 1)
        fields["sys_updated_on"] = _sn_time(at)
        fields["sys_updated_by"] = account
        return 200, {}


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    body = {"error": {"message": message, "detail": ""}, "status": "failure"}
    return Response(
        orjson.dumps(body), status_code=status, media_type="application/json", headers=headers
    )


def correlation(
    hub: str,
    *,
    supplier: str = "kpn",
    system: str = "servicenow",
    record_id: str = "a" * 32,
    kind: str = "incident",
    status: str = "in_progress",
    priority: str | None = "P3",
    version: int = 1,
    number: str | None = "INC0000046",
    supplier_correlation_id: str | None = None,
) -> Correlation:
    return Correlation(
        hub_id=hub,
        kind=kind,
        supplier=supplier,
        system=system,
        record_id=record_id,
        number=number,
        supplier_correlation_id=supplier_correlation_id,
        status=status,
        priority=priority,
        title="Zaaksysteem traag",
        version=version,
        ticket_updated_at=datetime(2026, 11, 24, 9, 0, tzinfo=UTC),
    )


def route(hub: str, gemeente: str = "GM0505", team: str = "fb-zaken") -> Route:
    return Route(
        hub, gemeente, team, f"routed-{hub}-{gemeente}", datetime(2026, 11, 24, tzinfo=UTC)
    )


#: Store tests run on both; a module makes them its fixture's params (see backend_url).
BACKENDS = ["sqlite", "postgresql"]


def backend_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The store URL of ``request.param``: a fresh SQLite file, or the session's PostgreSQL
    (the module imports ``tests._postgres.postgres_url``)."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'sync.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


async def empty_store(url: str) -> CorrelationStore:
    """The store at ``url`` with the sync tables emptied (PostgreSQL is shared per session)."""
    store = await CorrelationStore.open(url)
    async with (await store.engine()).begin() as conn:
        for table in (correlations, correlation_routes, replies_applied):
            await conn.execute(delete(table))
    return store
