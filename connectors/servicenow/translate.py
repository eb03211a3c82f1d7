"""ServiceNow -> common model: incident (this module); change_request and cmdb_ci follow."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import orjson
from pydantic import ValidationError

from connectors._base import InboundRecord, SupplierContext, Translation
from connectors._journal import split_journal
from connectors._time import parse_datetime
from connectors._valuemap import ValueMap
from connectors.errors import InvalidValue, MalformedPayload, MissingField, UnsupportedPayload
from connectors.servicenow import _maps
from connectors.servicenow._native import SnRecord, display, raw, records_of
from schemas import (
    CiRef,
    Comment,
    EntityKind,
    HoldReason,
    Impact,
    Incident,
    IncidentStatus,
    Origin,
    Priority,
    Resolution,
    ResolutionCode,
    SupplierRef,
    SupplierSystem,
    Urgency,
    Visibility,
    derived_id,
    hub_id,
    priority_from,
)

__all__ = ["ServiceNowTranslator"]

_TITLE_MAX = 400


class ServiceNowTranslator:
    """Translates one supplier's ServiceNow records (raw, display or both forms)."""

    system = SupplierSystem.SERVICENOW

    def __init__(self, ctx: SupplierContext) -> None:
        self.ctx = ctx
        maps = ctx.value_maps
        self.state = ValueMap.of("status", _maps.INCIDENT_STATE, IncidentStatus, maps)
        self.hold = ValueMap.of("hold_reason", _maps.HOLD_REASON, HoldReason, maps)
        self.impact = ValueMap.of("impact", _maps.IMPACT, Impact, maps)
        self.urgency = ValueMap.of("urgency", _maps.URGENCY, Urgency, maps)
        self.priority = ValueMap.of("priority", _maps.PRIORITY, Priority.parse, maps)
        self.resolution = ValueMap.of("resolution", _maps.RESOLUTION, ResolutionCode, maps)

    def translate(self, record: InboundRecord) -> Sequence[Translation]:
        try:
            document = orjson.loads(record.value)
        except orjson.JSONDecodeError as exc:
            raise MalformedPayload(f"not valid JSON: {exc}") from None
        try:
            records = records_of(document)
        except (TypeError, ValidationError) as exc:
            raise MalformedPayload(f"not a ServiceNow record: {_first_line(exc)}") from None
        if not records:
            raise UnsupportedPayload("ServiceNow response holds no records")
        return [self._one(rec, record.headers) for rec in records]

    def _one(self, rec: SnRecord, headers: object) -> Translation:
        table = _table_of(rec, headers)
        if table == "incident":
            return self.incident(rec)
        raise UnsupportedPayload(f"ServiceNow table '{table}' is not handled")

    def incident(self, rec: SnRecord) -> Translation:
        sys_id = _required(rec, "sys_id", "incident")
        updated_at = _dt(rec, "sys_updated_on")
        if updated_at is None:
            raise MissingField("sys_updated_on", "incident")
        hid = hub_id(self.ctx.supplier, EntityKind.INCIDENT, sys_id)
        state_code = raw(rec.get("state")) or raw(rec.get("incident_state"))
        if not state_code:
            raise MissingField("state", "incident")
        status = self.state(state_code, field="state")
        impact = self.impact.get(raw(rec.get("impact")))
        urgency = self.urgency.get(raw(rec.get("urgency")))
        priority = self.priority.get(raw(rec.get("priority")))
        if priority is None:
            if impact is None or urgency is None:
                raise MissingField("priority (or impact and urgency)", "incident")
            priority = priority_from(impact, urgency)
        mod_count = raw(rec.get("sys_mod_count"))
        version = _version(mod_count, updated_at)
        updated_by = raw(rec.get("sys_updated_by"))
        number = raw(rec.get("number")) or None
        title = display(rec.get("short_description")).strip() or number or sys_id
        incident = Incident(
            hub_id=hid,
            supplier_ref=SupplierRef(
                supplier=self.ctx.supplier,
                system=SupplierSystem.SERVICENOW,
                record_id=sys_id,
                number=number,
                correlation_id=raw(rec.get("correlation_id")) or None,
                correlation_display=raw(rec.get("correlation_display")) or None,
            ),
            title=_clip(title),
            description=display(rec.get("description")),
            status=status,
            supplier_status=display(rec.get("state")) or state_code,
            hold_reason=self._hold_reason(rec, status),
            priority=priority,
            impact=impact,
            urgency=urgency,
            category=display(rec.get("category")) or None,
            subcategory=display(rec.get("subcategory")) or None,
            ci=_ci_ref(rec),
            assignment_group=display(rec.get("assignment_group")) or None,
            assignee=display(rec.get("assigned_to")) or None,
            resolution=self._resolution(rec, status),
            reopened=status.is_open and _int(rec, "reopen_count") > 0,
            comments=self._comments(rec, hid, updated_at, updated_by),
            opened_at=_dt(rec, "opened_at"),
            updated_at=updated_at,
            resolved_at=_dt(rec, "resolved_at"),
            closed_at=_dt(rec, "closed_at"),
            version=version,
            origin=Origin(
                by_schakel=updated_by.casefold() in self.ctx.schakel_accounts,
                actor=updated_by or None,
            ),
        )
        return Translation(
            kind=EntityKind.INCIDENT,
            action="created" if mod_count == "0" else "updated",
            entity=incident,
            native_event_key=f"incident:{sys_id}:{mod_count}:{updated_at.isoformat()}",
            recorded_at=updated_at,
        )

    def _hold_reason(self, rec: SnRecord, status: IncidentStatus) -> HoldReason | None:
        if status is not IncidentStatus.ON_HOLD:
            return None
        code = raw(rec.get("hold_reason"))
        return self.hold.get(code, HoldReason.OTHER) if code else HoldReason.OTHER

    def _resolution(self, rec: SnRecord, status: IncidentStatus) -> Resolution | None:
        code = display(rec.get("close_code"))
        notes = display(rec.get("close_notes")) or None
        if status not in (IncidentStatus.RESOLVED, IncidentStatus.CLOSED) and not code:
            return None
        mapped = self.resolution.get(code, ResolutionCode.OTHER) if code else ResolutionCode.OTHER
        return Resolution(code=mapped, supplier_code=code or None, notes=notes)

    def _comments(
        self, rec: SnRecord, hid: str, updated_at: datetime, updated_by: str
    ) -> tuple[Comment, ...]:
        out: list[Comment] = []
        for field, visibility in (
            ("comments", Visibility.PUBLIC),
            ("work_notes", Visibility.INTERNAL),
        ):
            text = display(rec.get(field))
            for entry in split_journal(text, self.ctx.timezone):
                created = entry.created_at or updated_at
                author = entry.author or updated_by or None
                out.append(
                    Comment(
                        comment_id=derived_id(hid, field, created.isoformat(), entry.body),
                        body=entry.body,
                        visibility=visibility,
                        author=author,
                        created_at=created,
                        by_schakel=entry.body.startswith(self.ctx.schakel_marker)
                        or (author or "").casefold() in self.ctx.schakel_accounts,
                    )
                )
        out.sort(key=lambda c: c.created_at or updated_at)
        return tuple(out)


def _table_of(rec: SnRecord, headers: object) -> str:
    table = raw(rec.get("sys_class_name"))
    if table:
        return table
    if isinstance(headers, dict):
        hinted = headers.get("schakel-table") or headers.get("x-snc-table")
        if isinstance(hinted, bytes) and hinted:
            return hinted.decode("utf-8", "replace")
    number = raw(rec.get("number")).upper()
    for prefix, name in (("INC", "incident"), ("CHG", "change_request")):
        if number.startswith(prefix):
            return name
    raise UnsupportedPayload("cannot tell the ServiceNow table (no sys_class_name or number)")


def _required(rec: SnRecord, field: str, entity: str) -> str:
    value = raw(rec.get(field)).strip()
    if not value:
        raise MissingField(field, entity)
    return value


def _dt(rec: SnRecord, field: str) -> datetime | None:
    return parse_datetime(raw(rec.get(field)), field=field)


def _int(rec: SnRecord, field: str) -> int:
    text = raw(rec.get(field))
    if not text:
        return 0
    try:
        return int(text)
    except ValueError:
        raise InvalidValue(field, text, "a whole number") from None


def _version(mod_count: str, updated_at: datetime) -> int:
    if mod_count:
        try:
            return max(int(mod_count), 0)
        except ValueError:
            raise InvalidValue("sys_mod_count", mod_count, "a whole number") from None
    return int(updated_at.timestamp() * 1000)


def _ci_ref(rec: SnRecord) -> CiRef | None:
    value = rec.get("cmdb_ci")
    record_id = raw(value)
    name = display(value)
    if not record_id and not name:
        return None
    return CiRef(record_id=record_id or None, name=name if name != record_id else None)


def _clip(text: str) -> str:
    return text if len(text) <= _TITLE_MAX else text[: _TITLE_MAX - 1] + "…"


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200]
