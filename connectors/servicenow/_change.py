"""ServiceNow ``change_request`` -> :class:`~schemas.Change`.

``type`` standard | normal | emergency; ``state`` -5 New, -4 Assess, -3 Authorize,
-2 Scheduled, -1 Implement, 0 Review, 3 Closed, 4 Canceled (codes, labels, or the Change
Management API's numbers such as ``3.0``); ``risk`` 1 Very High .. 4 Low. Planned times are
``start_date``/``end_date``, actual times ``work_start``/``work_end``. ``close_code`` and
``approval`` are normalised to ServiceNow's stored codes (``successful_issues``,
``not_requested``); a code the tables do not know is kept as sent. Value-map names:
``change_status``, ``change_type``, ``change_risk``, ``change_close_code``, ``approval``,
plus the incident's ``priority`` and ``impact``.
"""

from __future__ import annotations

from typing import Any

from connectors._base import SupplierContext, Translation
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
    displays,
    flag,
    is_label,
    moment,
    raw,
    raws,
    reference,
    stamp,
)
from schemas import (
    Change,
    ChangeRisk,
    ChangeStatus,
    ChangeType,
    EntityKind,
    EventAction,
    Impact,
    Priority,
    SupplierSystem,
    Urgency,
    priority_from,
)

__all__ = ["ChangeReader"]


_RAW = (
    "sys_id",
    "state",
    "type",
    "risk",
    "impact",
    "priority",
    "sys_mod_count",
    "sys_updated_by",
    "number",
    "close_code",
    "approval",
    "correlation_id",
    "correlation_display",
)
_SHOWN = (
    "short_description",
    "description",
    "state",
    "category",
    "assignment_group",
    "implementation_plan",
    "backout_plan",
    "comments",
    "work_notes",
)


def _as_text(value: str) -> str:
    return value


class ChangeReader:
    """Reads change_request records of one supplier."""

    def __init__(self, ctx: SupplierContext, shared: Shared) -> None:
        maps = ctx.value_maps
        self.shared = shared
        self.supplier = ctx.supplier
        self.state = Lookup.of("change_status", _maps.CHANGE_STATE, ChangeStatus, maps)
        self.type = Lookup.of("change_type", _maps.CHANGE_TYPE, ChangeType, maps)
        self.risk = Lookup.of("change_risk", _maps.CHANGE_RISK, ChangeRisk, maps)
        self.close_code = Lookup.of("change_close_code", _maps.CHANGE_CLOSE_CODE, _as_text, maps)
        self.approval = Lookup.of("approval", _maps.APPROVAL, _as_text, maps)
        self.priority = Lookup.of("priority", _maps.PRIORITY, Priority.parse, maps)
        self.impact = Lookup.of("impact", _maps.IMPACT, Impact, maps)
        self.urgency = Lookup.of("urgency", _maps.URGENCY, Urgency, maps)

    def translate(self, rec: Record, operation: EventAction | None) -> Translation:
        if operation == "deleted":
            raise UnsupportedPayload("a deleted change is not translated (only CMDB deletions)")
        (
            sys_id,
            state_code,
            type_code,
            risk_code,
            impact_code,
            priority_code,
            mod_count,
            updated_by,
            number,
            close_code,
            approval,
            correlation_id,
            correlation_display,
        ) = raws(rec, _RAW)
        sys_id = sys_id.strip()
        if not sys_id:
            raise MissingField("sys_id", "change_request")
        shared = self.shared
        local = shared.timezone if is_label(rec.get("state")) else None
        updated_at = moment(rec, "sys_updated_on", local)
        if updated_at is None:
            raise MissingField("sys_updated_on", "change_request")
        if not state_code:
            raise MissingField("state", "change_request")
        if not type_code:
            raise MissingField("type", "change_request")
        hid = shared.ids.hub(EntityKind.CHANGE, sys_id)
        status = self.state(state_code, field="state")
        change_type = self.type(type_code, field="type")
        impact = self.impact.get(impact_code)
        priority = self.priority.get(priority_code)
        if priority is None and impact is not None:
            urgency = self.urgency.get(raw(rec, "urgency"))
            priority = priority_from(impact, urgency) if urgency is not None else None
        (
            title,
            description,
            supplier_status,
            category,
            group,
            implementation,
            backout,
            comments_text,
            work_notes_text,
        ) = displays(rec, _SHOWN)
        title = title.strip() or number or sys_id
        comments, echo = shared.comments(
            comments_text, work_notes_text, hid, updated_at, updated_by
        )
        ci_id, ci_name = reference(rec, "cmdb_ci")
        close_code = close_code.strip()
        approval = approval.strip()
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
            "change_type": change_type,
            "status": status,
            "supplier_status": supplier_status or state_code,
            "on_hold": flag(rec, "on_hold"),
            "risk": self.risk(risk_code, field="risk") if risk_code else None,
            "priority": priority,
            "impact": impact,
            "category": category or None,
            "ci": {"record_id": ci_id, "name": ci_name} if ci_id or ci_name else None,
            "assignment_group": group or None,
            "approval": self.approval.get(approval, approval) if approval else None,
            "planned_start": moment(rec, "start_date", local),
            "planned_end": moment(rec, "end_date", local),
            "actual_start": moment(rec, "work_start", local),
            "actual_end": moment(rec, "work_end", local),
            "close_code": self.close_code.get(close_code, close_code) if close_code else None,
            "implementation_plan": clip(implementation, LONG_MAX) if implementation else None,
            "backout_plan": clip(backout, LONG_MAX) if backout else None,
            "comments": comments,
            "opened_at": moment(rec, "opened_at", local),
            "updated_at": updated_at,
            "version": version_of(mod_count, updated_at),
            "origin": shared.origin(updated_by, echo),
        }
        when = stamp(rec, "sys_updated_on", updated_at, local)
        return Translation(
            kind=EntityKind.CHANGE,
            action=operation or ("created" if mod_count == "0" else "updated"),
            entity=build(Change, data, "change_request"),
            native_event_key=f"change:{sys_id}:{mod_count}:{when}",
            recorded_at=updated_at,
        )
