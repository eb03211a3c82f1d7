"""Xurrent (formerly 4me) webhooks -> common model: requests (incident, change) and CIs.

What the translator reads
-------------------------
The webhook body ``{webhook_id, account_id, account, name, event, object_id, person_id,
person_name, instance_name, payload}``, plain or JWT-signed (see :mod:`._native`), or a
request record as the REST API returns it (``GET /requests/:id``: no envelope, read as a
``request.update`` of that record). Xurrent's
own webhook payload is *thin* (status, previous_status, team, member, source, note_id); the
translator needs the record itself in ``payload``: the request or CI as the REST API returns it
(``subject``, ``category``, ``impact``, ``urgent``, ``status``, ``completion_reason``, ``team``,
``member``, ``service_instance``, ``ci``, ``created_at``, ``updated_at``, ``completed_at``,
``response_target_at``, ``resolution_target_at``, ``supplier``, ``supplier_requestID``...),
with ``note`` ``{id, text, internal, person{name}, created_at}`` on ``request.note-added`` and
``previous_status`` on ``request.status-changed``. A thin payload is refused as
UnsupportedPayload with that explanation, so it can be replayed once enriched.

Events
------
``request.*`` (create, update, status-changed, team-changed, member-changed, note-added, ...)
become an Incident or a Change by the request's ``category`` (value map ``category``:
incident and complaint -> Incident, rfc -> Change, anything else is not routed).
``ci.create`` / ``ci.update`` become a ConfigurationItem. ``webhook.verify`` and every other
event are UnsupportedPayload.

Mapping decisions
-----------------
- Status (value maps ``status``, ``hold_reason``): assigned NEW; accepted, in_progress
  IN_PROGRESS; waiting_for, reservation_pending, on_backlog ON_HOLD/other;
  waiting_for_customer ON_HOLD/awaiting_caller; workflow_pending, project_pending
  ON_HOLD/awaiting_change (an "other" hold with a ``supplier`` set, i.e. escalated to the
  supplier's own supplier, is awaiting_supplier); declined CANCELLED; completed RESOLVED,
  or CANCELLED when the ``completion_reason`` says nothing was resolved (value map
  ``completion_status``: duplicate, withdrawn, rejected, conflict, declined). A resolved
  request's ``completed_at`` is ``resolved_at``; a cancelled one's is ``closed_at``. Xurrent
  has no separate "closed" (a site mapping completed to closed gets both times).
- Resolution (value map ``resolution``): solved, workaround, gone (not reproducible),
  duplicate, withdrawn, unsolvable (not solved); no_reply, rejected, conflict, declined -> other.
- Priority: impact top/high -> HIGH, medium, low (value map ``impact``); urgency HIGH when the
  request is ``urgent``, else by impact (value map ``urgency``: top HIGH, others MEDIUM), so
  top/high/medium/low give P1/P2/P3/P4 and ``urgent`` raises one step. A category-incident
  request must have an impact (Xurrent requires it); another routed request without one is
  prioritised as impact low (P4, P3 when urgent) and carries no impact.
- Reopened: open again after completion (``previous_status`` completed, or ``reopen_count``).
- ``resolution_target_at`` / ``response_target_at`` may be best_effort, no_target or
  clock_stopped: no due time.
- Change (category rfc): type normal, emergency when urgent; status by value map
  ``change_status`` (assigned/on_backlog new, accepted/waiting assess, reservation/project
  pending scheduled, in_progress/workflow_pending implement: the workflow *is* the change,
  declined cancelled, completed closed, or cancelled by ``completion_status``); on hold in
  the waiting/pending statuses except workflow_pending (value map ``change_on_hold``).
- Notes: the event's ``note`` (or an enriched ``notes`` list; a note may be a plain text)
  become comments; ``internal``
  true is INTERNAL, false PUBLIC, absent INTERNAL (never leak a note we cannot classify);
  notes without text are skipped.
- Description: Xurrent's request note is write-only in the API, so ``description`` is read
  only when the enricher supplies it (e.g. the first note's text); otherwise it is empty.
- Category: Incident.category is the request category (incident, complaint), subcategory the
  service instance; Change.category is the service instance.
- CI: ``product.category`` (or ``rule_set``, or the product name) is the class; ``label`` is the
  number; gemeenten / GEMMA component / FB team come from ``custom_fields`` whose ids are
  ``ctx.options`` ``ci_field_gemeenten`` / ``ci_field_gemma`` / ``ci_field_fb_team``
  (default ``gemeenten`` / ``gemma_component`` / ``fb_team``).
- Identity: record id is ``payload.id`` (or ``object_id``; both present and different is
  malformed), number its text; ``supplier_requestID`` is the correlation id. Version is
  ``updated_at`` in epoch ms. Event key: header ``x-xurrent-delivery`` when present, else
  webhook id, event, object id, updated_at (and the note id of a note event).
- Echo: ``person_name`` is one of ``ctx.schakel_accounts``, or the event's note was written
  by one of them or starts with ``ctx.schakel_marker``.
- Personal data: requested_by / requested_for are not carried; team and member names are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from connectors._base import InboundRecord, SupplierContext, Translation
from connectors._valuemap import ValueMap
from connectors.errors import InvalidValue, MalformedPayload, MissingField, UnsupportedPayload
from connectors.kit import TEXT_MAX, TITLE_MAX, clip, gemeente_codes
from connectors.xurrent import _maps
from connectors.xurrent._native import (
    Body,
    code,
    flag,
    header,
    ident,
    read_body,
    ref_id,
    ref_name,
    text,
    timestamp,
    whole_number,
)
from schemas import (
    Change,
    ChangeStatus,
    ChangeType,
    CiRef,
    CiStatus,
    Comment,
    ConfigurationItem,
    EntityKind,
    EventAction,
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

__all__ = ["XurrentTranslator"]

_DELIVERY_HEADER = "x-xurrent-delivery"
_CI_EVENTS: dict[str, EventAction] = {"ci.create": "created", "ci.update": "updated"}
_DONE = (IncidentStatus.RESOLVED, IncidentStatus.CLOSED)
_FINISHED = (ChangeStatus.CLOSED, ChangeStatus.CANCELLED)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


class XurrentTranslator:
    """Translates one supplier's Xurrent webhooks (plain or gateway-verified JWT)."""

    system = SupplierSystem.XURRENT

    def __init__(self, ctx: SupplierContext) -> None:
        self.ctx = ctx
        maps = ctx.value_maps
        self.category = ValueMap.of("category", _maps.CATEGORY, EntityKind, maps)
        self.status = ValueMap.of("status", _maps.STATUS, IncidentStatus, maps)
        self.hold = ValueMap.of("hold_reason", _maps.HOLD_REASON, HoldReason, maps)
        self.completion_status = ValueMap.of(
            "completion_status", _maps.COMPLETION_STATUS, IncidentStatus, maps
        )
        self.resolution = ValueMap.of("resolution", _maps.RESOLUTION, ResolutionCode, maps)
        self.impact = ValueMap.of("impact", _maps.IMPACT, Impact, maps)
        self.urgency = ValueMap.of("urgency", _maps.URGENCY, Urgency, maps)
        self.change_status = ValueMap.of("change_status", _maps.CHANGE_STATUS, ChangeStatus, maps)
        self.change_hold = ValueMap.of("change_on_hold", _maps.CHANGE_ON_HOLD, _maps.truth, maps)
        self.ci_status = ValueMap.of("ci_status", _maps.CI_STATUS, CiStatus, maps)
        self.accounts = frozenset(a.casefold() for a in ctx.schakel_accounts)
        self.marker = ctx.schakel_marker
        options = ctx.options
        self.field_gemeenten = options.get("ci_field_gemeenten", "gemeenten")
        self.field_gemma = options.get("ci_field_gemma", "gemma_component")
        self.field_fb_team = options.get("ci_field_fb_team", "fb_team")

    # -- entry point -------------------------------------------------------------------------

    def translate(self, record: InboundRecord) -> Sequence[Translation]:
        body = read_body(record.value, record.headers)
        if "event" not in body and _is_request_record(body):
            body = _as_update(body)
        event = body.get("event")
        if not isinstance(event, str) or not event.strip():
            raise MalformedPayload("not a Xurrent webhook: no 'event'")
        event = event.strip()
        if event == "webhook.verify":
            raise UnsupportedPayload(
                "webhook.verify is Xurrent's check of the endpoint, not a record event; "
                "the gateway answers its callback"
            )
        is_request = event.startswith("request.")
        if not is_request and event not in _CI_EVENTS:
            raise UnsupportedPayload(f"Xurrent event '{event}' is not handled")
        payload = body.get("payload")
        if not isinstance(payload, dict):
            raise MalformedPayload(f"Xurrent webhook '{event}' has no 'payload' object")
        try:
            if is_request:
                return [self._request(body, event, payload, record.headers)]
            return [self._ci(body, event, payload, record.headers)]
        except ValidationError as exc:
            raise _invalid(exc) from None

    # -- requests ----------------------------------------------------------------------------

    def _request(
        self, body: Body, event: str, payload: dict[str, Any], headers: Mapping[str, bytes]
    ) -> Translation:
        if "subject" not in payload and "category" not in payload and "updated_at" not in payload:
            raise UnsupportedPayload(
                f"thin Xurrent '{event}' payload (no subject, category or updated_at): the "
                "webhook must be enriched with the request record from the API first"
            )
        category = code(payload, "category")
        if category is None:
            raise MissingField("category", "request")
        kind = self.category.get(category)
        if kind is None or kind is EntityKind.CI:
            raise UnsupportedPayload(f"Xurrent request category '{category}' is not routed")
        record_id = _record_id(body, payload)
        hid = hub_id(self.ctx.supplier, kind, record_id)
        tz = self.ctx.timezone
        updated_at = timestamp(payload, "updated_at", tz)
        if updated_at is None:
            raise MissingField("updated_at", "request")
        status_code = code(payload, "status")
        if status_code is None:
            raise MissingField("status", "request")
        base_status = self.status(status_code, field="status")
        reason = code(payload, "completion_reason")
        if base_status in _DONE and reason:
            outcome = self.completion_status.get(reason)
            if outcome is not None and outcome is not IncidentStatus.RESOLVED:
                base_status = outcome  # a completion that resolved nothing (withdrawn, ...)
        urgent = flag(payload, "urgent")
        impact_code = code(payload, "impact")
        impact = self.impact(impact_code, field="impact") if impact_code else None
        comments, trigger_echo = self._comments(payload, hid, updated_at)
        actor = code(body, "person_name")
        by_schakel = trigger_echo or (actor is not None and actor.casefold() in self.accounts)
        subject = (text(payload, "subject") or "").strip()
        common: dict[str, Any] = {
            "hub_id": hid,
            "supplier_ref": self._supplier_ref(payload, record_id, record_id),
            "title": clip(subject or record_id, TITLE_MAX),
            "description": clip(text(payload, "description") or "", TEXT_MAX),
            "supplier_status": status_code,
            "impact": impact,
            "ci": _ci_ref(payload),
            "assignment_group": ref_name(payload, "team"),
            "comments": comments,
            "opened_at": timestamp(payload, "created_at", tz),
            "updated_at": updated_at,
            "version": _version(updated_at, payload),
            "origin": Origin(by_schakel=by_schakel, actor=actor),
        }
        completed_at = timestamp(payload, "completed_at", tz)
        urgency = Urgency.HIGH if urgent else None
        if impact_code is not None and not urgent:
            urgency = self.urgency.get(impact_code) or Urgency.MEDIUM
        entity: Incident | Change
        if kind is EntityKind.INCIDENT:
            if impact is None and category.casefold() == "incident":
                raise MissingField("impact", "request")
            priority = priority_from(impact or Impact.LOW, urgency or Urgency.MEDIUM)
            entity = self._incident(
                common, payload, base_status, reason, completed_at, category, urgency, priority
            )
        else:
            common["priority"] = (
                priority_from(impact, urgency or Urgency.MEDIUM) if impact else None
            )
            entity = self._change(
                common, payload, status_code, base_status, reason, completed_at, urgent
            )
        return Translation(
            kind=kind,
            action="created" if event == "request.create" else "updated",
            entity=entity,
            native_event_key=_event_key(body, event, record_id, updated_at, payload, headers),
            recorded_at=updated_at,
        )

    def _incident(
        self,
        common: dict[str, Any],
        payload: dict[str, Any],
        status: IncidentStatus,
        reason: str | None,
        completed_at: datetime | None,
        category: str,
        urgency: Urgency | None,
        priority: Priority,
    ) -> Incident:
        status_code = common["supplier_status"]
        hold = None
        if status is IncidentStatus.ON_HOLD:
            hold = self.hold.get(status_code) or HoldReason.OTHER
            if hold is HoldReason.OTHER and payload.get("supplier"):
                hold = HoldReason.AWAITING_SUPPLIER
        resolution = None
        if status in _DONE or (status is IncidentStatus.CANCELLED and reason):
            resolution = Resolution(
                code=self.resolution.get(reason, ResolutionCode.OTHER)
                if reason
                else ResolutionCode.OTHER,
                supplier_code=reason,
            )
        reopened = status.is_open and (
            code(payload, "previous_status") == "completed"
            or whole_number(payload, "reopen_count") > 0
        )
        tz = self.ctx.timezone
        return Incident(
            **common,
            status=status,
            hold_reason=hold,
            priority=priority,
            urgency=urgency,
            category=category,
            subcategory=ref_name(payload, "service_instance"),
            assignee=ref_name(payload, "member"),
            resolution=resolution,
            reopened=reopened,
            resolved_at=completed_at if status in _DONE else None,
            closed_at=completed_at
            if status in (IncidentStatus.CLOSED, IncidentStatus.CANCELLED)
            else None,
            response_due_at=timestamp(payload, "response_target_at", tz, tokens=True),
            resolve_due_at=timestamp(payload, "resolution_target_at", tz, tokens=True),
        )

    def _change(
        self,
        common: dict[str, Any],
        payload: dict[str, Any],
        status_code: str,
        incident_status: IncidentStatus,
        reason: str | None,
        completed_at: datetime | None,
        urgent: bool,
    ) -> Change:
        status = self.change_status(status_code, field="status")
        if status is ChangeStatus.CLOSED and incident_status is IncidentStatus.CANCELLED:
            status = ChangeStatus.CANCELLED
        finished = status in _FINISHED
        return Change(
            **common,
            change_type=ChangeType.EMERGENCY if urgent else ChangeType.NORMAL,
            status=status,
            on_hold=not finished and bool(self.change_hold.get(status_code)),
            category=ref_name(payload, "service_instance"),
            actual_end=completed_at if status is ChangeStatus.CLOSED else None,
            close_code=reason if finished else None,
        )

    def _comments(
        self, payload: dict[str, Any], hid: str, updated_at: datetime
    ) -> tuple[tuple[Comment, ...], bool]:
        """The notes as comments, and whether the event's own note is Schakel's (echo)."""
        out: list[Comment] = []
        echo = False
        note = payload.get("note")
        if note is not None:
            if isinstance(note, str):
                note = {"text": note}  # a plain-text note: no id, author or visibility
            if not isinstance(note, dict):
                raise InvalidValue("note", note, "a note {id, text, internal, person} or a text")
            comment = self._comment(note, hid, updated_at, "note")
            if comment is not None:
                out.append(comment)
                echo = comment.by_schakel
        notes = payload.get("notes")
        if notes is not None:
            if not isinstance(notes, list):
                raise InvalidValue("notes", notes, "a list of notes")
            seen = {c.comment_id for c in out}
            for index, item in enumerate(notes):
                if isinstance(item, str):
                    item = {"text": item}
                if not isinstance(item, dict):
                    raise InvalidValue(f"notes[{index}]", item, "a note {id, text, internal}")
                comment = self._comment(item, hid, updated_at, f"notes[{index}]")
                if comment is not None and comment.comment_id not in seen:
                    seen.add(comment.comment_id)
                    out.append(comment)
        if len(out) > 1:
            out.sort(key=lambda c: c.created_at or updated_at)
        return tuple(out), echo

    def _comment(
        self, note: dict[str, Any], hid: str, updated_at: datetime, field: str
    ) -> Comment | None:
        body = text(note, "text")
        if body is None or not body.strip():
            return None
        internal = note.get("internal")
        if internal is not None and not isinstance(internal, bool):
            raise InvalidValue(f"{field}.internal", internal, "true or false")
        created = timestamp(note, "created_at", self.ctx.timezone) or updated_at
        author = ref_name(note, "person")
        note_id = ident(note.get("id"), f"{field}.id")
        comment_id = (
            derived_id(hid, "note", note_id)
            if note_id
            else derived_id(hid, "note", created.isoformat(), body)
        )
        return Comment(
            comment_id=comment_id,
            body=clip(body, TEXT_MAX),
            visibility=Visibility.PUBLIC if internal is False else Visibility.INTERNAL,
            author=author,
            created_at=created,
            by_schakel=body.startswith(self.marker)
            or (author is not None and author.casefold() in self.accounts),
        )

    def _supplier_ref(self, payload: dict[str, Any], record_id: str, number: str) -> SupplierRef:
        correlation = ident(payload.get("supplier_requestID"), "supplier_requestID")
        return SupplierRef(
            supplier=self.ctx.supplier,
            system=SupplierSystem.XURRENT,
            record_id=record_id,
            number=number,
            correlation_id=correlation,
            correlation_display=ref_name(payload, "supplier") if correlation else None,
        )

    # -- configuration items -----------------------------------------------------------------

    def _ci(
        self, body: Body, event: str, payload: dict[str, Any], headers: Mapping[str, bytes]
    ) -> Translation:
        if "name" not in payload and "updated_at" not in payload:
            raise UnsupportedPayload(
                f"thin Xurrent '{event}' payload (no name or updated_at): the webhook must be "
                "enriched with the CI record from the API first"
            )
        record_id = _record_id(body, payload)
        hid = hub_id(self.ctx.supplier, EntityKind.CI, record_id)
        updated_at = timestamp(payload, "updated_at", self.ctx.timezone)
        if updated_at is None:
            raise MissingField("updated_at", "ci")
        label = code(payload, "label")
        name = code(payload, "name") or label
        if name is None:
            raise MissingField("name", "ci")
        status_code = code(payload, "status")
        if status_code is None:
            raise MissingField("status", "ci")
        custom = _custom_fields(payload)
        actor = code(body, "person_name")
        ci = ConfigurationItem(
            hub_id=hid,
            supplier_ref=self._supplier_ref(payload, record_id, label or record_id),
            name=clip(name, TITLE_MAX),
            ci_class=_ci_class(payload),
            status=self.ci_status(status_code, field="status"),
            supplier_status=status_code,
            gemeenten=gemeente_codes(
                custom.get(self.field_gemeenten), f"custom_fields.{self.field_gemeenten}"
            ),
            fb_team=_custom_text(custom, self.field_fb_team),
            technical_supplier=self.ctx.supplier,
            gemma_component=_custom_text(custom, self.field_gemma),
            support_group=ref_name(payload, "support_team"),
            updated_at=updated_at,
            version=_version(updated_at, payload),
            origin=Origin(
                by_schakel=actor is not None and actor.casefold() in self.accounts, actor=actor
            ),
        )
        return Translation(
            kind=EntityKind.CI,
            action=_CI_EVENTS[event],
            entity=ci,
            native_event_key=_event_key(body, event, record_id, updated_at, payload, headers),
            recorded_at=updated_at,
        )


# -- helpers ---------------------------------------------------------------------------------


def _record_id(body: Body, payload: dict[str, Any]) -> str:
    from_payload = ident(payload.get("id"), "payload.id")
    from_body = ident(body.get("object_id"), "object_id")
    if from_payload and from_body and from_payload != from_body:
        raise MalformedPayload(
            f"object_id {from_body} and payload.id {from_payload} name different records"
        )
    record_id = from_payload or from_body
    if record_id is None:
        raise MissingField("object_id (or payload.id)", "webhook")
    return record_id


def _event_key(
    body: Body,
    event: str,
    record_id: str,
    updated_at: datetime,
    payload: dict[str, Any],
    headers: Mapping[str, bytes],
) -> str:
    delivery = header(headers, _DELIVERY_HEADER)
    if delivery:
        return f"delivery:{delivery}"
    webhook = ident(body.get("webhook_id"), "webhook_id") or "-"
    key = f"{webhook}:{event}:{record_id}:{updated_at.isoformat()}"
    note = payload.get("note")
    if isinstance(note, dict):
        note_id = ident(note.get("id"), "note.id")
        if note_id:
            key = f"{key}:note:{note_id}"
    return key


def _version(updated_at: datetime, payload: dict[str, Any]) -> int:
    version = (updated_at - _EPOCH) // _MS
    if version < 0:
        raise InvalidValue("updated_at", payload.get("updated_at"), "a datetime after 1970")
    return version


def _ci_ref(payload: dict[str, Any]) -> CiRef | None:
    record_id = ref_id(payload, "ci")
    name = ref_name(payload, "ci")
    if record_id is None and name is None:
        return None
    return CiRef(record_id=record_id, name=name)


def _ci_class(payload: dict[str, Any]) -> str:
    product = payload.get("product")
    if product is not None and not isinstance(product, dict):
        raise InvalidValue("product", product, "a reference {id, name, category}")
    if product:
        category = ref_name(product, "category")
        if category:
            return category
    rule_set = code(payload, "rule_set")
    if rule_set:
        return rule_set
    name = ref_name(payload, "product")
    if name:
        return name
    raise MissingField("product", "ci")


def _custom_fields(payload: dict[str, Any]) -> dict[str, Any]:
    """``custom_fields`` as ``{id: value}``, from Xurrent's ``[{id, value}]`` or a mapping."""
    raw = payload.get("custom_fields")
    if raw is None:
        return {}
    if isinstance(raw, dict):
        return raw
    if not isinstance(raw, list):
        raise InvalidValue("custom_fields", raw, "a list of {id, value}")
    out: dict[str, Any] = {}
    for item in raw:
        if not isinstance(item, dict):
            raise InvalidValue("custom_fields", item, "a custom field {id, value}")
        key = item.get("id")
        if isinstance(key, str):
            out[key] = item.get("value")
    return out


def _custom_text(custom: dict[str, Any], field: str) -> str | None:
    value = custom.get(field)
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    raise InvalidValue(f"custom_fields.{field}", value, "a text")


def _invalid(exc: ValidationError) -> InvalidValue:
    first = exc.errors()[0]
    field = ".".join(str(part) for part in first.get("loc", ())) or "record"
    return InvalidValue(field, first.get("input"), first.get("msg", "a valid value"))


_RECORD_KEYS = ("subject", "category", "status")


def _is_request_record(body: Body) -> bool:
    """A request as the REST API returns it (``GET /requests/:id``): no webhook envelope, an
    ``id``, ``updated_at`` and the request's own fields."""
    return (
        "id" in body
        and "updated_at" in body
        and "payload" not in body
        and any(key in body for key in _RECORD_KEYS)
    )


def _as_update(record: Body) -> Body:
    """A REST request record read as the ``request.update`` webhook that would carry it."""
    return {"event": "request.update", "object_id": record.get("id"), "payload": record}
