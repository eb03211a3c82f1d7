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
from connectors._valuemap import ValueMap
from connectors.errors import MissingField, UnsupportedPayload
from connectors.servicenow import _maps
from connectors.servicenow._common import (
    LONG_MAX,
    SHORT_MAX,
    Shared,
    build,
    clip,
    required,
    version_of,
)
from connectors.servicenow._native import (
    Record,
    display,
    integer,
    is_display_form,
    moment,
    raw,
    reference,
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
    hub_id,
    priority_from,
)

__all__ = ["IncidentReader"]

_RESOLVED = (IncidentStatus.RESOLVED, IncidentStatus.CLOSED)
_OPEN = frozenset({IncidentStatus.NEW, IncidentStatus.IN_PROGRESS, IncidentStatus.ON_HOLD})


class IncidentReader:
    """Reads incident records of one supplier; lookup tables are built once, here."""

    def __init__(self, ctx: SupplierContext, shared: Shared) -> None:
        maps = ctx.value_maps
        self.shared = shared
        self.supplier = ctx.supplier
        self.state = ValueMap.of("status", _maps.INCIDENT_STATE, IncidentStatus, maps)
        self.hold = ValueMap.of("hold_reason", _maps.HOLD_REASON, HoldReason, maps)
        self.impact = ValueMap.of("impact", _maps.IMPACT, Impact, maps)
        self.urgency = ValueMap.of("urgency", _maps.URGENCY, Urgency, maps)
        self.priority = ValueMap.of("priority", _maps.PRIORITY, Priority.parse, maps)
        self.resolution = ValueMap.of("resolution", _maps.RESOLUTION, ResolutionCode, maps)

    def translate(self, rec: Record, operation: EventAction | None) -> Translation:
        if operation == "deleted":
            raise UnsupportedPayload("a deleted incident is not translated (only CMDB deletions)")
        sys_id = required(rec, "sys_id", "incident")
        state_code = raw(rec, "state")
        state_field = "state" if state_code else "incident_state"
        if not state_code:
            state_code = raw(rec, "incident_state")
        local = self.shared.timezone if is_display_form(rec, state_field) else None
        updated_at = moment(rec, "sys_updated_on", local)
        if updated_at is None:
            raise MissingField("sys_updated_on", "incident")
        if not state_code:
            raise MissingField("state", "incident")
        hid = hub_id(self.supplier, EntityKind.INCIDENT, sys_id)
        status = self.state(state_code, field="state")
        impact = self.impact.get(raw(rec, "impact"))
        urgency = self.urgency.get(raw(rec, "urgency"))
        priority = self.priority.get(raw(rec, "priority"))
        if priority is None:
            if impact is None or urgency is None:
                raise MissingField("priority (or impact and urgency)", "incident")
            priority = priority_from(impact, urgency)
        mod_count = raw(rec, "sys_mod_count")
        updated_by = raw(rec, "sys_updated_by")
        number = raw(rec, "number") or None
        title = display(rec, "short_description").strip() or number or sys_id
        comments, echo = self.shared.comments(rec, hid, updated_at, updated_by)
        ci_id, ci_name = reference(rec, "cmdb_ci")
        data: dict[str, Any] = {
            "hub_id": hid,
            "supplier_ref": {
                "supplier": self.supplier,
                "system": SupplierSystem.SERVICENOW,
                "record_id": sys_id,
                "number": number,
                "correlation_id": raw(rec, "correlation_id") or None,
                "correlation_display": raw(rec, "correlation_display") or None,
            },
            "title": clip(title, SHORT_MAX),
            "description": clip(display(rec, "description"), LONG_MAX),
            "status": status,
            "supplier_status": display(rec, state_field) or state_code,
            "hold_reason": self._hold_reason(rec, status),
            "priority": priority,
            "impact": impact,
            "urgency": urgency,
            "category": display(rec, "category") or None,
            "subcategory": display(rec, "subcategory") or None,
            "ci": {"record_id": ci_id, "name": ci_name} if ci_id or ci_name else None,
            "assignment_group": display(rec, "assignment_group") or None,
            "assignee": display(rec, "assigned_to") or None,
            "resolution": self._resolution(rec, status),
            "reopened": status in _OPEN and integer(rec, "reopen_count") > 0,
            "comments": comments,
            "opened_at": moment(rec, "opened_at", local),
            "updated_at": updated_at,
            "resolved_at": moment(rec, "resolved_at", local),
            "closed_at": moment(rec, "closed_at", local),
            "version": version_of(mod_count, updated_at),
            "origin": self.shared.origin(updated_by, echo),
        }
        return Translation(
            kind=EntityKind.INCIDENT,
            action=operation or ("created" if mod_count == "0" else "updated"),
            entity=build(Incident, data, "incident"),
            native_event_key=f"incident:{sys_id}:{mod_count}:{updated_at.isoformat()}",
            recorded_at=updated_at,
        )

    def _hold_reason(self, rec: Record, status: IncidentStatus) -> HoldReason | None:
        if status is not IncidentStatus.ON_HOLD:
            return None
        code = raw(rec, "hold_reason")
        return self.hold.get(code, HoldReason.OTHER) if code else HoldReason.OTHER

    def _resolution(self, rec: Record, status: IncidentStatus) -> dict[str, Any] | None:
        code = display(rec, "close_code")
        if not code and status not in _RESOLVED:
            return None
        notes = display(rec, "close_notes")
        mapped = self.resolution.get(code, ResolutionCode.OTHER) if code else ResolutionCode.OTHER
        return {
            "code": mapped,
            "supplier_code": code or None,
            "notes": clip(notes, LONG_MAX) if notes else None,
        }
