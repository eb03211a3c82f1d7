"""ServiceNow ``incident`` -> :class:`~schemas.Incident`.

State 1 New, 2 In Progress, 3 On Hold (with ``hold_reason``), 6 Resolved, 7 Closed,
8 Canceled; codes or labels, overridable in ``value_maps.status``. Priority is the record's
own, else impact x urgency (ITIL matrix). ``comments`` are public and ``work_notes`` internal
journal entries. ``sys_mod_count`` is the version; ``sys_updated_by`` in the supplier's
Schakel accounts, or a Schakel-marked journal entry written at the update time, marks an echo.
"""

from __future__ import annotations

from typing import Any

from connectors._base import SupplierContext, Translation
from connectors._model import choose_priority, default_priority
from connectors.errors import MissingField, UnsupportedPayload
from connectors.servicenow import _maps
from connectors.servicenow._common import (
    LONG_MAX,
    SHORT_MAX,
    Lookup,
    Shared,
    build,
    clip,
    version_of,
)
from connectors.servicenow._native import (
    Record,
    display,
    displays,
    integer,
    is_label,
    moment,
    raw,
    raws,
    reference,
    stamp,
)
from schemas import (
    EntityKind,
    EventAction,
    HoldReason,
    Impact,
    Incident,
    IncidentStatus,
    Priority,
    ResolutionCode,
    SupplierSystem,
    Urgency,
)

__all__ = ["IncidentReader"]

_RESOLVED = (IncidentStatus.RESOLVED, IncidentStatus.CLOSED)
_RAW = (
    "sys_id",
    "state",
    "incident_state",
    "impact",
    "urgency",
    "priority",
    "sys_mod_count",
    "sys_updated_by",
    "number",
    "correlation_id",
    "correlation_display",
)
_SHOWN = (
    "short_description",
    "description",
    "category",
    "subcategory",
    "assignment_group",
    "assigned_to",
    "close_code",
    "comments",
    "work_notes",
)
_OPEN = frozenset({IncidentStatus.NEW, IncidentStatus.IN_PROGRESS, IncidentStatus.ON_HOLD})


class IncidentReader:
    """Reads incident records of one supplier; lookup tables are built once, here."""

    def __init__(self, ctx: SupplierContext, shared: Shared) -> None:
        maps = ctx.value_maps
        self.shared = shared
        self.supplier = ctx.supplier
        self.state = Lookup.of("status", _maps.INCIDENT_STATE, IncidentStatus, maps)
        self.hold = Lookup.of("hold_reason", _maps.HOLD_REASON, HoldReason, maps)
        self.impact = Lookup.of("impact", _maps.IMPACT, Impact, maps)
        self.urgency = Lookup.of("urgency", _maps.URGENCY, Urgency, maps)
        self.priority = Lookup.of("priority", _maps.PRIORITY, Priority.parse, maps)
        self.default_priority = default_priority(ctx.options)
        self.resolution = Lookup.of("resolution", _maps.RESOLUTION, ResolutionCode, maps)

    def translate(self, rec: Record, operation: EventAction | None) -> Translation:
        if operation == "deleted":
            raise UnsupportedPayload("a deleted incident is not translated (only CMDB deletions)")
        (
            sys_id,
            state_code,
            legacy_state,
            impact_code,
            urgency_code,
            priority_code,
            mod_count,
            updated_by,
            number,
            correlation_id,
            correlation_display,
        ) = raws(rec, _RAW)
        sys_id = sys_id.strip()
        if not sys_id:
            raise MissingField("sys_id", "incident")
        state_field = "state"
        if not state_code:
            state_field, state_code = "incident_state", legacy_state
        shared = self.shared
        local = shared.timezone if is_label(rec.get(state_field)) else None
        updated_at = moment(rec, "sys_updated_on", local)
        if updated_at is None:
            raise MissingField("sys_updated_on", "incident")
        if not state_code:
            raise MissingField("state", "incident")
        hid = shared.ids.hub(EntityKind.INCIDENT, sys_id)
        status = self.state(state_code, field="state")
        impact = self.impact.get(impact_code)
        urgency = self.urgency.get(urgency_code)
        chosen = choose_priority(
            self.priority.get(priority_code), impact, urgency, self.default_priority
        )
        (
            title,
            description,
            category,
            subcategory,
            group,
            assignee,
            close_code,
            comments_text,
            work_notes_text,
        ) = displays(rec, _SHOWN)
        title = title.strip() or number or sys_id
        comments, echo = shared.comments(
            comments_text, work_notes_text, hid, updated_at, updated_by
        )
        ci_id, ci_name = reference(rec, "cmdb_ci")
        is_open = status in _OPEN
        data: dict[str, Any] = {
            "hub_id": hid,
            "supplier_ref": {
                "supplier": self.supplier,
                "system": SupplierSystem.SERVICENOW,
                "record_id": sys_id,
                "number": number or None,
                "correlation_id": correlation_id or None,
                "correlation_display": correlation_display or None,
            },
            "title": clip(title, SHORT_MAX),
            "description": clip(description, LONG_MAX),
            "status": status,
            "supplier_status": display(rec, state_field) or state_code,
            "hold_reason": self._hold_reason(rec) if status is IncidentStatus.ON_HOLD else None,
            "priority": chosen.priority,
            "priority_given": chosen.given,
            "impact": impact,
            "urgency": urgency,
            "category": category or None,
            "subcategory": subcategory or None,
            "ci": {"record_id": ci_id, "name": ci_name} if ci_id or ci_name else None,
            "assignment_group": group or None,
            "assignee": assignee or None,
            "resolution": self._resolution(rec, close_code)
            if close_code or status in _RESOLVED
            else None,
            "reopened": is_open and integer(rec, "reopen_count") > 0,
            "comments": comments,
            "opened_at": moment(rec, "opened_at", local),
            "updated_at": updated_at,
            "resolved_at": moment(rec, "resolved_at", local),
            "closed_at": moment(rec, "closed_at", local),
            # the supplier's own target ("Due date"): compared with the contract's by the
            # SLA watch (a discrepancy event when they differ beyond its tolerance)
            "resolve_due_at": moment(rec, "due_date", local),
            "version": version_of(mod_count, updated_at),
            "origin": shared.origin(updated_by, echo),
        }
        when = stamp(rec, "sys_updated_on", updated_at, local)
        return Translation(
            kind=EntityKind.INCIDENT,
            action=operation or ("created" if mod_count == "0" else "updated"),
            entity=build(Incident, data, "incident"),
            native_event_key=f"incident:{sys_id}:{mod_count}:{when}",
            recorded_at=updated_at,
        )

    def _hold_reason(self, rec: Record) -> HoldReason | None:
        code = raw(rec, "hold_reason")
        return self.hold.get(code, HoldReason.OTHER) if code else HoldReason.OTHER

    def _resolution(self, rec: Record, code: str) -> dict[str, Any] | None:
        """For resolved and closed incidents, and any other that has a close code."""
        notes = display(rec, "close_notes")
        mapped = self.resolution.get(code, ResolutionCode.OTHER) if code else ResolutionCode.OTHER
        return {
            "code": mapped,
            "supplier_code": code or None,
            "notes": clip(notes, LONG_MAX) if notes else None,
        }
