"""TOPdesk -> common model: incidents, operator changes and assets.

One inbound record holds one TOPdesk object or a list of them (a ``/tas/api/incidents`` list
response, an assetmgmt ``{"dataSet": [...]}`` page); every object becomes one
:class:`~connectors.Translation`. Which entity an object is comes from the
``schakel-entity`` header (``incident`` | ``change`` | ``ci``) or else from its shape.

Mapping decisions (defaults in :mod:`connectors.topdesk._maps`, all overridable per supplier):

* Incident status: ``closed`` -> closed, ``completed`` -> resolved (either becomes cancelled
  when the processingStatus maps to cancelled or the closureCode to withdrawn; an archived
  card counts as closed), ``onHold`` -> on hold, else the processingStatus name through the
  ``status`` table, else in progress when a person is the operator, new otherwise.
* Hold reason: the processingStatus name through ``hold_reason`` (other when unknown).
* Reopened: an open incident whose processingStatus says so (``reopened`` table), or that
  still carries a completion/closure date while its flags say it is not completed/closed.
* Priority: the priority name through ``priority`` (names starting ``P<n>`` or ``<n> -`` are
  read too), else the impact x urgency matrix; a ticket with neither is taken (self-service
  and automation entries often have none): priority ``options["default_priority"]`` or
  unknown (null), and ``priority_given`` false. Only ``id`` and ``modificationDate`` (identity
  and version order) are required.
* Change: changeType simple -> standard, extensive -> normal (``change_type``). Status
  (response fields unconfirmed, read tolerantly): canceled/cancelled/rejected -> cancelled,
  closed -> closed, else the first of status/processingStatus/phase/currentPhase whose name
  ``change_status`` knows (``completed`` lifts anything earlier to review), else new.
* Asset: archived -> retired, else ``@status`` through ``ci_status`` (IMPACTED -> repair);
  gemeenten (CBS codes, list or comma text), GEMMA component, FB team and support group come
  from asset fields named by ``options["ci_field_*"]``; ``modificationDate`` has no offset
  and is read as UTC.
* Version: ``modificationDate`` in epoch milliseconds. Event key: id, modificationDate and a
  digest of the embedded progress-trail entries.
* Echo: the ``modifier`` is one of Schakel's accounts; without a modifier, the newest
  progress-trail entry (within two seconds of ``modificationDate``) was written by Schakel
  (its operator/person is a Schakel account, or its text starts with the Schakel marker).
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from pydantic import ValidationError

from connectors._base import InboundRecord, SupplierContext, Translation
from connectors._model import (
    PriorityChoice,
    choose_priority,
    default_priority,
    hold_reason_while_on_hold,
    reopened_while_open,
)
from connectors._valuemap import ValueMap
from connectors.errors import (
    ConnectorError,
    InvalidValue,
    MalformedPayload,
    MissingField,
    UnsupportedPayload,
)
from connectors.kit import gemeente_codes
from connectors.topdesk import _maps
from connectors.topdesk._native import (
    Json,
    epoch_ms,
    flag,
    id_of,
    kind_of,
    name_of,
    obj,
    required_text,
    text,
    when,
)
from schemas import (
    Change,
    ChangeRisk,
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
)

__all__ = ["TopdeskTranslator"]

_TITLE_MAX = 400
_TEXT_MAX = 200_000
_ECHO_WINDOW = timedelta(seconds=2)
_CREATED_WINDOW_MS = 1000
_TRAIL_FIELDS = ("progressTrail", "actions")
_CLOSED_STATES = (IncidentStatus.RESOLVED, IncidentStatus.CLOSED, IncidentStatus.CANCELLED)
_BEFORE_REVIEW = frozenset(
    {
        ChangeStatus.NEW,
        ChangeStatus.ASSESS,
        ChangeStatus.AUTHORIZE,
        ChangeStatus.SCHEDULED,
        ChangeStatus.IMPLEMENT,
    }
)
_PRIORITY_PREFIX = re.compile(
    r"^\s*(?:(?:p|prio|prioriteit|priority)\s*[-:.]?\s*([1-5])(?![0-9])"
    r"|([1-5])\s*(?:$|[-–:.)]))",
    re.IGNORECASE,
)
_BREAK = re.compile(r"<br\s*/?>|</p>|</div>|</li>", re.IGNORECASE)
_TAG = re.compile(r"<[^<>]{0,2000}>")
_STATUS_FIELDS = ("status", "processingStatus", "phase", "currentPhase")

#: option name -> default asset field name holding that CI attribute
_CI_FIELDS = {
    "ci_field_gemeenten": "gemeenten",
    "ci_field_gemma_component": "gemma-component",
    "ci_field_fb_team": "fb-team",
    "ci_field_support_group": "support-group",
}


class TopdeskTranslator:
    """Translates one supplier's TOPdesk incidents, operator changes and assets."""

    system = SupplierSystem.TOPDESK

    def __init__(self, ctx: SupplierContext) -> None:
        self.ctx = ctx
        maps = ctx.value_maps
        self.status = ValueMap.of("status", _maps.INCIDENT_STATUS, IncidentStatus, maps)
        self.hold = ValueMap.of("hold_reason", _maps.HOLD_REASON, HoldReason, maps)
        self.reopened = ValueMap.of("reopened", _maps.REOPENED, _maps.truthy, maps)
        self.impact = ValueMap.of("impact", _maps.IMPACT, Impact, maps)
        self.urgency = ValueMap.of("urgency", _maps.URGENCY, Urgency, maps)
        self.priority = ValueMap.of("priority", _maps.PRIORITY, Priority.parse, maps)
        self.resolution = ValueMap.of("resolution", _maps.RESOLUTION, ResolutionCode, maps)
        self.change_type = ValueMap.of("change_type", _maps.CHANGE_TYPE, ChangeType, maps)
        self.change_status = ValueMap.of("change_status", _maps.CHANGE_STATUS, ChangeStatus, maps)
        self.change_risk = ValueMap.of("change_risk", _maps.CHANGE_RISK, ChangeRisk, maps)
        self.ci_status = ValueMap.of("ci_status", _maps.CI_STATUS, CiStatus, maps)
        self.default_priority = default_priority(ctx.options)
        self.accounts = frozenset(a.casefold() for a in ctx.schakel_accounts)
        self.marker = ctx.schakel_marker
        self.ci_fields = {key: ctx.options.get(key) or name for key, name in _CI_FIELDS.items()}

    # -- entry point -------------------------------------------------------------------

    def translate(self, record: InboundRecord) -> Sequence[Translation]:
        try:
            document = orjson.loads(record.value)
        except orjson.JSONDecodeError as exc:
            raise MalformedPayload(f"not valid JSON: {exc}") from None
        items = document if isinstance(document, list) else [document]
        if not items:
            raise UnsupportedPayload("TOPdesk response holds no records")
        out: list[Translation] = []
        try:
            for item in items:
                if not isinstance(item, dict):
                    raise MalformedPayload("a TOPdesk record is a JSON object")
                kind = kind_of(item, record.headers)
                if kind is EntityKind.INCIDENT:
                    out.append(self.incident(item))
                elif kind is EntityKind.CHANGE:
                    out.append(self.change(item))
                else:
                    out.extend(self.assets(item))
        except ValidationError as exc:
            raise InvalidValue(_loc(exc), _input(exc), "a value the common model accepts") from None
        except ConnectorError:
            raise
        except (ValueError, TypeError, OverflowError) as exc:  # defensive: unexpected shapes
            raise MalformedPayload(f"not a TOPdesk record: {exc!s:.200}") from None
        return out

    # -- incidents ---------------------------------------------------------------------

    def incident(self, doc: Json) -> Translation:
        record_id = required_text(doc, "id", "incident")
        updated_at = _required_when(doc, "modificationDate", "incident")
        hid = hub_id(self.ctx.supplier, EntityKind.INCIDENT, record_id)
        processing = name_of(doc.get("processingStatus"))
        closure = name_of(doc.get("closureCode"))
        operator = obj(doc.get("operator"))
        group = name_of(doc.get("operatorGroup"))
        person = _person_operator(operator, doc.get("operatorGroup"))
        status = self._incident_status(doc, processing, closure, bool(person))
        impact = self.impact.get(name_of(doc.get("impact")))
        urgency = self.urgency.get(name_of(doc.get("urgency")))
        chosen = self._incident_priority(name_of(doc.get("priority")), impact, urgency)
        if not group and operator is not None and not person:
            group = name_of(operator)
        comments = self._comments(doc, hid, updated_at)
        number = text(doc.get("number")).strip() or None
        created_at = when(doc.get("creationDate"), "creationDate")
        sla = obj(doc.get("sla")) or {}
        finished = status in _CLOSED_STATES
        incident = Incident(
            hub_id=hid,
            supplier_ref=SupplierRef(
                supplier=self.ctx.supplier,
                system=SupplierSystem.TOPDESK,
                record_id=record_id,
                number=number,
                correlation_id=text(doc.get("externalNumber")).strip() or None,
            ),
            title=_clip(text(doc.get("briefDescription")).strip() or number or record_id),
            description=_long(text(doc.get("request"))),
            status=status,
            supplier_status=processing or text(doc.get("status")).strip() or None,
            hold_reason=hold_reason_while_on_hold(status, self.hold.get(processing)),
            priority=chosen.priority,
            priority_given=chosen.given,
            impact=impact,
            urgency=urgency,
            category=name_of(doc.get("category")) or None,
            subcategory=name_of(doc.get("subcategory")) or None,
            ci=_ci_ref(doc),
            assignment_group=group or None,
            assignee=person or None,
            resolution=self._resolution(status, closure),
            reopened=reopened_while_open(status, self._reopened(doc, processing)),
            comments=comments,
            opened_at=when(doc.get("callDate"), "callDate") or created_at,
            updated_at=updated_at,
            resolved_at=when(doc.get("completedDate"), "completedDate") if finished else None,
            closed_at=when(doc.get("closedDate"), "closedDate")
            if status in (IncidentStatus.CLOSED, IncidentStatus.CANCELLED)
            else None,
            response_due_at=when(sla.get("responseTargetDate"), "sla.responseTargetDate"),
            resolve_due_at=when(doc.get("targetDate"), "targetDate")
            or when(sla.get("targetDate"), "sla.targetDate"),
            version=epoch_ms(updated_at),
            origin=self._origin(doc, comments, updated_at),
        )
        return Translation(
            kind=EntityKind.INCIDENT,
            action=_action(created_at, updated_at),
            entity=incident,
            native_event_key=_event_key("incident", record_id, updated_at, comments),
            recorded_at=updated_at,
        )

    def _incident_status(
        self, doc: Json, processing: str, closure: str, assigned: bool
    ) -> IncidentStatus:
        mapped = self.status.get(processing)
        closed = flag(doc.get("closed")) or text(doc.get("status")).casefold().endswith("archived")
        if closed or flag(doc.get("completed")):
            if (
                mapped is IncidentStatus.CANCELLED
                or self.resolution.get(closure) is ResolutionCode.WITHDRAWN
            ):
                return IncidentStatus.CANCELLED
            return IncidentStatus.CLOSED if closed else IncidentStatus.RESOLVED
        if flag(doc.get("onHold")):
            return IncidentStatus.ON_HOLD
        if mapped is not None:
            return mapped
        return IncidentStatus.IN_PROGRESS if assigned else IncidentStatus.NEW

    def _incident_priority(
        self, name: str, impact: Impact | None, urgency: Urgency | None
    ) -> PriorityChoice:
        found = self._priority_of(name)
        if found is None and name:
            raise InvalidValue(
                "priority",
                name,
                f"a priority name known to value map 'priority' (or P1-P5); set "
                f"suppliers[{self.ctx.supplier}].value_maps.priority",
            )
        return choose_priority(found, impact, urgency, self.default_priority)

    def _priority_of(self, name: str) -> Priority | None:
        if not name:
            return None
        found = self.priority.get(name)
        if found is not None:
            return found
        match = _PRIORITY_PREFIX.match(name)
        if match is None:
            return None
        return Priority(f"P{match[1] or match[2]}")

    def _reopened(self, doc: Json, processing: str) -> bool:
        if self.reopened.get(processing):
            return True
        was_completed = bool(text(doc.get("completedDate"))) and not flag(doc.get("completed"))
        was_closed = bool(text(doc.get("closedDate"))) and not flag(doc.get("closed"))
        return was_completed or was_closed

    def _resolution(self, status: IncidentStatus, closure: str) -> Resolution | None:
        if status not in _CLOSED_STATES:
            return None
        if not closure:
            if status is IncidentStatus.CANCELLED:
                return None
            return Resolution(code=ResolutionCode.OTHER)
        code = self.resolution.get(closure, ResolutionCode.OTHER) or ResolutionCode.OTHER
        return Resolution(code=code, supplier_code=closure)

    # -- operator changes --------------------------------------------------------------

    def change(self, doc: Json) -> Translation:
        record_id = required_text(doc, "id", "operator change")
        updated_at = _required_when(doc, "modificationDate", "operator change")
        type_name = name_of(doc.get("changeType"))
        if not type_name:
            raise MissingField("changeType", "operator change")
        change_type = self.change_type(type_name, field="changeType")
        hid = hub_id(self.ctx.supplier, EntityKind.CHANGE, record_id)
        names = [n for n in (name_of(doc.get(f)) for f in _STATUS_FIELDS) if n]
        comments = self._comments(doc, hid, updated_at)
        number = text(doc.get("number")).strip() or None
        created_at = when(doc.get("creationDate"), "creationDate")
        closure = name_of(doc.get("closureCode"))
        change = Change(
            hub_id=hid,
            supplier_ref=SupplierRef(
                supplier=self.ctx.supplier,
                system=SupplierSystem.TOPDESK,
                record_id=record_id,
                number=number,
                correlation_id=text(doc.get("externalNumber")).strip() or None,
            ),
            title=_clip(text(doc.get("briefDescription")).strip() or number or record_id),
            description=_long(text(doc.get("request"))),
            change_type=change_type,
            status=self._change_status(doc, names),
            supplier_status=names[0] if names else None,
            on_hold=flag(doc.get("onHold")),
            risk=self.change_risk.get(name_of(doc.get("risk"))),
            priority=self._priority_of(name_of(doc.get("priority"))),
            impact=self.impact.get(name_of(doc.get("impact"))),
            category=name_of(doc.get("category")) or None,
            ci=_ci_ref(doc),
            assignment_group=name_of(doc.get("operatorGroup")) or None,
            planned_start=_first_when(doc, ("plannedStartDate", "plannedImplementationDate")),
            planned_end=_first_when(doc, ("plannedEndDate", "plannedFinalDate")),
            actual_start=_first_when(doc, ("startedDate", "actualStartDate")),
            actual_end=_first_when(doc, ("completedDate", "actualEndDate")),
            close_code=closure or None,
            comments=comments,
            opened_at=created_at or when(doc.get("callDate"), "callDate"),
            updated_at=updated_at,
            version=epoch_ms(updated_at),
            origin=self._origin(doc, comments, updated_at),
        )
        return Translation(
            kind=EntityKind.CHANGE,
            action=_action(created_at, updated_at),
            entity=change,
            native_event_key=_event_key("change", record_id, updated_at, comments),
            recorded_at=updated_at,
        )

    def _change_status(self, doc: Json, names: list[str]) -> ChangeStatus:
        if any(flag(doc.get(f)) for f in ("canceled", "cancelled", "rejected")):
            return ChangeStatus.CANCELLED
        if flag(doc.get("closed")):
            return ChangeStatus.CLOSED
        mapped = next((m for m in map(self.change_status.get, names) if m is not None), None)
        if flag(doc.get("completed")) and (mapped is None or mapped in _BEFORE_REVIEW):
            return ChangeStatus.REVIEW
        return mapped or ChangeStatus.NEW

    # -- assets ------------------------------------------------------------------------

    def assets(self, doc: Json) -> list[Translation]:
        if "dataSet" in doc:
            items = doc["dataSet"]
            if not isinstance(items, list):
                raise MalformedPayload("assetmgmt 'dataSet' is not a list")
            if not items:
                raise UnsupportedPayload("assetmgmt response holds no assets")
        else:
            items = [doc]
        out = []
        for item in items:
            if not isinstance(item, dict):
                raise MalformedPayload("an asset in 'dataSet' is not a JSON object")
            out.append(self.asset(item))
        return out

    def asset(self, doc: Json) -> Translation:
        unid = required_text(doc, "unid", "asset")
        # assetmgmt writes modificationDate without offset, in UTC
        updated_at = _required_when(doc, "modificationDate", "asset")
        created_at = when(doc.get("creationDate"), "creationDate")
        archived = flag(doc.get("archived"))
        status_code = text(doc.get("@status")).strip()
        if archived:
            status = CiStatus.RETIRED
        else:
            status = self.ci_status.get(status_code, CiStatus.OPERATIONAL) or CiStatus.OPERATIONAL
        fields = self.ci_fields
        gemeenten_field = fields["ci_field_gemeenten"]
        ci = ConfigurationItem(
            hub_id=hub_id(self.ctx.supplier, EntityKind.CI, unid),
            supplier_ref=SupplierRef(
                supplier=self.ctx.supplier, system=SupplierSystem.TOPDESK, record_id=unid
            ),
            name=_clip(text(doc.get("name")).strip() or unid),
            ci_class=name_of(doc.get("type"))
            or text(doc.get("templateName")).strip()
            or text(doc.get("type_id")).strip()
            or "asset",
            status=status,
            supplier_status=status_code or None,
            gemeenten=_gemeenten(doc.get(gemeenten_field), gemeenten_field),
            fb_team=name_of(doc.get(fields["ci_field_fb_team"])) or None,
            technical_supplier=self.ctx.supplier,
            gemma_component=name_of(doc.get(fields["ci_field_gemma_component"])) or None,
            support_group=name_of(doc.get(fields["ci_field_support_group"])) or None,
            updated_at=updated_at,
            version=epoch_ms(updated_at),
        )
        return Translation(
            kind=EntityKind.CI,
            action=_action(created_at, updated_at),
            entity=ci,
            native_event_key=f"ci:{unid}:{epoch_ms(updated_at)}",
            recorded_at=updated_at,
        )

    # -- shared: progress trail and origin ---------------------------------------------

    def _comments(self, doc: Json, hid: str, updated_at: datetime) -> tuple[Comment, ...]:
        entries = _trail(doc)
        if not entries:
            return ()
        out: list[Comment] = []
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            memo = text(entry.get("memoText"))
            body = text(entry.get("plainText")).strip() or _plain(memo)
            if not body:
                continue
            created = when(entry.get("entryDate"), "progressTrail.entryDate") or updated_at
            author = name_of(entry.get("operator")) or name_of(entry.get("person")) or None
            action_id = text(entry.get("id")).strip()
            comment_id = (
                derived_id(hid, "action", action_id)
                if action_id
                else derived_id(hid, "action", created.isoformat(), body)
            )
            # invisibleForCaller is always in TOPdesk's own output; a site-built body
            # without it is treated as internal, so nothing leaks to the FB by default
            hidden = entry.get("invisibleForCaller")
            visible = hidden is False or (isinstance(hidden, str) and hidden.casefold() == "false")
            out.append(
                Comment(
                    comment_id=comment_id,
                    body=_long(body),
                    visibility=Visibility.PUBLIC if visible else Visibility.INTERNAL,
                    author=author,
                    created_at=created,
                    by_schakel=self._is_schakel(author) or self._has_marker(body, memo),
                )
            )
        out.sort(key=_comment_order)
        return tuple(out)

    def _origin(self, doc: Json, comments: tuple[Comment, ...], updated_at: datetime) -> Origin:
        modifier = name_of(doc.get("modifier"))
        if modifier:
            return Origin(by_schakel=self._is_schakel(modifier), actor=modifier)
        if comments:
            newest = comments[-1]
            if newest.created_at is not None and newest.created_at >= updated_at - _ECHO_WINDOW:
                return Origin(by_schakel=newest.by_schakel, actor=newest.author)
        return Origin()

    def _has_marker(self, body: str, memo: str) -> bool:
        marker = self.marker
        return bool(marker) and (body.startswith(marker) or memo.lstrip().startswith(marker))

    def _is_schakel(self, name: str | None) -> bool:
        return name is not None and name.casefold() in self.accounts


# -- module helpers ---------------------------------------------------------------------


def _trail(doc: Json) -> list[Any]:
    for field in _TRAIL_FIELDS:
        value = doc.get(field)
        if isinstance(value, list):
            return value
    return []


def _comment_order(comment: Comment) -> tuple[datetime, str]:
    return (comment.created_at or datetime.min.replace(tzinfo=UTC), comment.comment_id)


def _plain(memo: str) -> str:
    """memoText as plain text: TOPdesk memo fields may hold simple HTML markup."""
    if "<" not in memo and "&" not in memo:
        return memo.strip()
    return html.unescape(_TAG.sub("", _BREAK.sub("\n", memo))).strip()


def _person_operator(operator: Json | None, group: object) -> str:
    """The assigned operator's name when it is a person, not an operator group."""
    if operator is None:
        return ""
    if text(operator.get("status")).strip().casefold() == "operatorgroup":
        return ""
    operator_id = id_of(operator)
    if operator_id and operator_id == id_of(group):
        return ""
    if not operator_id and not name_of(operator):
        return ""
    return name_of(operator) or operator_id


def _ci_ref(doc: Json) -> CiRef | None:
    """The asset (its unid, which assetmgmt CIs are keyed on) or else the object."""
    asset_id = id_of(doc.get("asset"))
    item = obj(doc.get("object"))
    object_id = id_of(item)
    name = name_of(item) if item is not None else ""
    record_id = asset_id or object_id
    if not record_id and not name:
        return None
    return CiRef(record_id=record_id or None, name=name or None)


def _gemeenten(value: object, field: str) -> tuple[str, ...]:
    """CBS codes from a list (texts or ``{name}`` options) or a separated text."""
    if isinstance(value, list):
        names: list[object] = []
        for item in value:
            if isinstance(item, dict):
                names.append(name_of(item) or text(item.get("text")))
            elif item is None or isinstance(item, str):
                names.append(item or "")
            else:
                raise InvalidValue(field, item, "CBS gemeentecodes as text or {name} options")
        return gemeente_codes(names, field)
    return gemeente_codes(value, field)


def _required_when(doc: Json, field: str, entity: str) -> datetime:
    moment = when(doc.get(field), field)
    if moment is None:
        raise MissingField(field, entity)
    return moment


def _first_when(doc: Json, fields: Sequence[str]) -> datetime | None:
    for field in fields:
        moment = when(doc.get(field), field)
        if moment is not None:
            return moment
    return None


def _action(created_at: datetime | None, updated_at: datetime) -> EventAction:
    """Created when the record was modified no later than a second after its creation."""
    if created_at is not None and 0 <= epoch_ms(updated_at) - epoch_ms(created_at) <= (
        _CREATED_WINDOW_MS
    ):
        return "created"
    return "updated"


def _event_key(
    kind: str, record_id: str, updated_at: datetime, comments: tuple[Comment, ...]
) -> str:
    key = f"{kind}:{record_id}:{epoch_ms(updated_at)}"
    if not comments:
        return key
    ids = "|".join(sorted(c.comment_id for c in comments))
    return f"{key}:{hashlib.blake2b(ids.encode(), digest_size=8).hexdigest()}"


def _clip(value: str) -> str:
    return value if len(value) <= _TITLE_MAX else value[: _TITLE_MAX - 1] + "…"


def _long(value: str) -> str:
    return value if len(value) <= _TEXT_MAX else value[: _TEXT_MAX - 1] + "…"


def _loc(exc: ValidationError) -> str:
    errors = exc.errors()
    return ".".join(str(p) for p in errors[0]["loc"]) if errors else "record"


def _input(exc: ValidationError) -> object:
    errors = exc.errors()
    return errors[0].get("input") if errors else None
