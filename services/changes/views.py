"""The calendar as people and agendas read it: entries in a period, as JSON, as iCalendar.

Read from the store's rows (:class:`~services.changes.store.StoreState`), so the CLI, the
service and the cockpit show the same thing. An entry is a change whose planned window
touches the period, with what it affects and the findings raised about it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import orjson

from schemas import Change, ChangeStatus
from schemas.changes import ChangeFinding
from services.changes.store import StoreState
from services.changes.text import when

__all__ = ["Entry", "active_findings", "entries", "to_ics", "to_json"]

_TENTATIVE = frozenset({ChangeStatus.NEW, ChangeStatus.ASSESS, ChangeStatus.AUTHORIZE})
_MARK = {
    "collision": "BOTSING",
    "blackout": "BLACKOUT",
    "outside_maintenance_window": "BUITEN VENSTER",
    "emergency": "SPOED",
    "unapproved_start": "ZONDER GOEDKEURING",
    "overrun": "UITLOOP",
}


@dataclass(frozen=True, slots=True)
class Entry:
    change: Change
    impact: dict[str, Any]
    findings: tuple[ChangeFinding, ...] = field(default=())

    @property
    def gemeenten(self) -> list[str]:
        return list(self.impact.get("gemeenten", []))

    @property
    def marks(self) -> list[str]:
        return sorted({_MARK[f.kind] for f in self.findings})


def active_findings(
    state: StoreState, *, since: datetime | None = None, gemeente: str | None = None
) -> list[ChangeFinding]:
    """Raised findings whose changes end at or after ``since``, most urgent first."""
    found = []
    for row in state.findings:
        finding = row.finding
        if not row.active:
            continue
        if gemeente is not None and gemeente not in finding.gemeenten:
            continue
        ends = [c.planned_end for c in finding.changes if c.planned_end is not None]
        if since is not None and ends and max(ends) < since:
            continue
        found.append(finding)
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(
        found,
        key=lambda f: (min((c.planned_start or far for c in f.changes), default=far), f.kind),
    )


def entries(
    state: StoreState,
    start: datetime,
    end: datetime,
    *,
    gemeente: str | None = None,
    supplier: str | None = None,
) -> list[Entry]:
    """The changes whose planned window touches [start, end), in start order."""
    by_change: dict[str, list[ChangeFinding]] = {}
    for finding in active_findings(state):
        for planned in finding.changes:
            by_change.setdefault(planned.hub_id, []).append(finding)
    found = []
    for row in state.schedule:
        change = row.change
        ps, pe = change.planned_start, change.planned_end
        if ps is None or pe is None or not (ps < end and pe >= start):
            continue
        if supplier is not None and change.supplier_ref.supplier != supplier:
            continue
        if gemeente is not None and gemeente not in row.impact.get("gemeenten", []):
            continue
        found.append(Entry(change, row.impact, tuple(by_change.get(change.hub_id, ()))))
    found.sort(key=lambda e: (e.change.planned_start, e.change.hub_id))
    return found


def _entry_json(entry: Entry) -> dict[str, Any]:
    change = entry.change
    ref = change.supplier_ref
    return {
        "hub_id": change.hub_id,
        "supplier": ref.supplier,
        "number": ref.number or ref.record_id,
        "title": change.title,
        "change_type": change.change_type.value,
        "status": change.status.value,
        "risk": change.risk.value if change.risk else None,
        "approval": change.approval,
        "planned_start": change.planned_start,
        "planned_end": change.planned_end,
        "ci": (change.ci.name or change.ci.record_id) if change.ci else None,
        "affects": entry.impact,
        "findings": [
            {"finding_id": f.finding_id, "kind": f.kind, "explanation": f.explanation}
            for f in entry.findings
        ],
    }


def to_json(items: Sequence[Entry]) -> bytes:
    return orjson.dumps(
        [_entry_json(e) for e in items], option=orjson.OPT_INDENT_2 | orjson.OPT_UTC_Z
    )


def to_ics(items: Sequence[Entry], *, name: str, zone: ZoneInfo, now: datetime) -> bytes:
    """An iCalendar (RFC 5545) a gemeente can subscribe its agenda to: one VEVENT per
    change, UID the hub id, SEQUENCE the change's version, cancelled changes CANCELLED,
    findings marked in the summary and written out in the description."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Schakel//Wijzigingskalender//NL")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", str(zone))
    for entry in items:
        change = entry.change
        ref = change.supplier_ref
        assert change.planned_start is not None and change.planned_end is not None
        event = icalendar.Event()
        event.add("uid", f"{change.hub_id}@schakel")
        event.add("dtstamp", now.astimezone(UTC))
        event.add("last-modified", change.updated_at.astimezone(UTC))
        event.add("dtstart", change.planned_start.astimezone(UTC))
        event.add("dtend", change.planned_end.astimezone(UTC))
        event.add("sequence", change.version)
        marks = "".join(f"[{m}] " for m in entry.marks)
        event.add("summary", f"{marks}{ref.supplier} {ref.number or ref.record_id}: {change.title}")
        if change.status is ChangeStatus.CANCELLED:
            status = "CANCELLED"
        elif change.status in _TENTATIVE:
            status = "TENTATIVE"
        else:
            status = "CONFIRMED"
        event.add("status", status)
        event.add("categories", [change.change_type.value, *entry.marks])
        lines = [
            f"Leverancier: {ref.supplier}",
            f"Status: {change.status.value}",
            f"Type: {change.change_type.value}",
            f"Risico: {change.risk.value if change.risk else 'onbekend'}",
            f"Gepland: {when(change.planned_start, zone)} tot {when(change.planned_end, zone)}",
        ]
        affects = entry.impact.get("applications") or entry.impact.get("named") or []
        if affects:
            lines.append("Raakt: " + ", ".join(affects))
        lines += [f"- {f.explanation}" for f in entry.findings]
        event.add("description", "\n".join(lines))
        calendar.add_component(event)
    return bytes(calendar.to_ical())
