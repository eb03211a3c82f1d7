"""Jira Service Management -> common model: issue and comment webhooks, REST issue snapshots.

One payload gives one translation: the issue it concerns, as an incident or a change
(decided by the issue type's name), with the comment the event carries. Supported inputs:

- webhooks: ``jira:issue_created`` | ``jira:issue_updated`` | ``jira:issue_deleted`` |
  ``comment_created`` | ``comment_updated`` | ``comment_deleted``;
- a bare issue as the REST API returns it (``{"id", "key", "fields"}``), e.g. from a poller.

Supplier options (``ctx.options``), all custom field ids since those differ per site:
``request_type_field`` (default ``customfield_10010``), ``ci_field`` (default
``components``), ``group_field``, ``change_type_field``, ``risk_field``,
``planned_start_field``, ``planned_end_field``, ``implementation_plan_field``,
``backout_plan_field``; and ``default_priority`` (P1-P5) for issues without a priority.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from connectors._base import InboundRecord, SupplierContext, Translation
from connectors._model import PriorityChoice, choose_priority, default_priority
from connectors._time import parse_datetime, parse_epoch_ms
from connectors._valuemap import ValueMap
from connectors.errors import (
    ConnectorError,
    InvalidValue,
    MalformedPayload,
    MissingField,
    UnsupportedPayload,
)
from connectors.jira import _maps
from connectors.jira._native import (
    JsonObject,
    fold,
    header,
    id_text,
    label,
    obj,
    rich_text,
    text,
)
from connectors.kit import TEXT_MAX, TITLE_MAX, clip, decode_object, epoch_ms, invalid_value
from schemas import (
    Change,
    ChangeRisk,
    ChangeStatus,
    ChangeType,
    CiRef,
    Comment,
    EntityKind,
    EventAction,
    HoldReason,
    Incident,
    IncidentStatus,
    Origin,
    Priority,
    Resolution,
    ResolutionCode,
    SupplierRef,
    SupplierSystem,
    Visibility,
    derived_id,
    hub_id,
)

__all__ = ["JiraTranslator"]


_ISSUE_EVENTS: dict[str, EventAction] = {
    "jira:issue_created": "created",
    "jira:issue_updated": "updated",
    "jira:issue_deleted": "deleted",
    "comment_created": "updated",
    "comment_updated": "updated",
    "comment_deleted": "updated",
}
_COMMENT_EVENTS = frozenset({"comment_created", "comment_updated", "comment_deleted"})
_WEBHOOK_ID = "X-Atlassian-Webhook-Identifier"
_UNEXPECTED = "unexpected shape in Jira payload (connector error)"
_DONE_STATUSES = frozenset({IncidentStatus.RESOLVED, IncidentStatus.CLOSED})
_ENDED_STATUSES = frozenset(
    {IncidentStatus.RESOLVED, IncidentStatus.CLOSED, IncidentStatus.CANCELLED}
)


class JiraTranslator:
    """Translates one supplier's Jira Service Management webhooks and issues."""

    system = SupplierSystem.JIRA

    def __init__(self, ctx: SupplierContext) -> None:
        self.ctx = ctx
        maps = ctx.value_maps
        self.issue_type = ValueMap.of("issue_type", _maps.ISSUE_TYPE, _maps.issue_kind, maps)
        self.request_kind = ValueMap.of("request_type", _maps.REQUEST_TYPE, _maps.issue_kind, maps)
        self.category = ValueMap.of("status_category", _maps.STATUS_CATEGORY, IncidentStatus, maps)
        self.status = ValueMap.of("status", _maps.STATUS, IncidentStatus, maps)
        self.hold = ValueMap.of("hold_reason", _maps.HOLD_REASON, HoldReason, maps)
        self.change_category = ValueMap.of(
            "change_category", _maps.CHANGE_CATEGORY, ChangeStatus, maps
        )
        self.change_status = ValueMap.of("change_status", _maps.CHANGE_STATUS, ChangeStatus, maps)
        self.change_hold = ValueMap.of("change_on_hold", _maps.CHANGE_ON_HOLD, _maps.truthy, maps)
        self.change_type = ValueMap.of("change_type", _maps.CHANGE_TYPE, ChangeType, maps)
        self.risk = ValueMap.of("change_risk", _maps.CHANGE_RISK, ChangeRisk, maps)
        self.priority = ValueMap.of("priority", _maps.PRIORITY, Priority.parse, maps)
        self.resolution = ValueMap.of("resolution", _maps.RESOLUTION, ResolutionCode, maps)
        reopened = (maps.get("reopened_status") or {}).keys()
        self.reopened_names = _maps.REOPENED_STATUS | {fold(name) for name in reopened}

        options = ctx.options
        self.request_type_field = options.get("request_type_field", "customfield_10010")
        self.ci_field = options.get("ci_field", "components")
        self.group_field = options.get("group_field", "")
        self.change_type_field = options.get("change_type_field", "")
        self.risk_field = options.get("risk_field", "")
        self.planned_start_field = options.get("planned_start_field", "")
        self.planned_end_field = options.get("planned_end_field", "")
        self.implementation_plan_field = options.get("implementation_plan_field", "")
        self.backout_plan_field = options.get("backout_plan_field", "")
        self.default_priority = default_priority(options)
        self.accounts = frozenset(account.casefold() for account in ctx.schakel_accounts)
        self.marker = ctx.schakel_marker

    # -- entry point -------------------------------------------------------------------------

    def translate(self, record: InboundRecord) -> Sequence[Translation]:
        document = decode_object(record.value, "Jira")
        try:
            return [self._event(document, record.headers)]
        except ConnectorError:
            raise
        except ValidationError as exc:
            raise invalid_value(exc) from None
        except (OverflowError, ValueError, TypeError, RecursionError) as exc:
            # a safety net: any such case is a connector bug, reported as one
            raise MalformedPayload(f"{_UNEXPECTED}: {exc!r}"[:300]) from None

    def _event(self, document: JsonObject, headers: Mapping[str, bytes]) -> Translation:
        webhook = document.get("webhookEvent")
        if webhook is None and "fields" in document and "key" in document:
            return self._issue(document, None, document, headers)
        if not isinstance(webhook, str) or not webhook:
            raise MalformedPayload("not a Jira webhook (no webhookEvent) nor a Jira issue")
        if webhook not in _ISSUE_EVENTS:
            raise UnsupportedPayload(f"Jira webhook event '{webhook[:80]}' is not handled")
        issue = document.get("issue")
        if issue is None:
            raise MissingField("issue", f"Jira {webhook} webhook")
        return self._issue(document, webhook, obj(issue, "issue"), headers)

    # -- one issue ---------------------------------------------------------------------------

    def _issue(
        self,
        document: JsonObject,
        webhook: str | None,
        issue: JsonObject,
        headers: Mapping[str, bytes],
    ) -> Translation:
        issue_id = id_text(issue.get("id"))
        if not issue_id:
            raise MissingField("issue.id", "Jira issue")
        fields = obj(issue.get("fields"), "issue.fields")
        type_name = label(fields.get("issuetype"))
        if not type_name:
            raise MissingField("issuetype", "Jira issue")
        issue_kind = self._kind_of(type_name, fields)
        stamp = document.get("timestamp") if webhook else None
        happened = parse_epoch_ms(stamp, field="timestamp") if stamp is not None else None
        updated_at = _dt(fields.get("updated"), "updated") or happened
        if updated_at is None:
            raise MissingField("updated (or timestamp)", "Jira issue")
        recorded_at = happened or updated_at
        version = epoch_ms(updated_at)
        deleted = webhook == "jira:issue_deleted"
        if deleted:
            version = max(version, epoch_ms(recorded_at))

        kind = issue_kind.kind
        hid = hub_id(self.ctx.supplier, kind, issue_id)
        number = text(issue.get("key")).strip() or None
        comment = obj(document.get("comment"), "comment") if webhook else {}
        event_comment = (
            self._comment(comment, hid, updated_at)
            if comment and webhook != "comment_deleted"
            else None
        )
        comments = self._comments(fields, hid, updated_at, event_comment, comment, webhook)
        origin = self._origin(document, webhook, comment, event_comment)
        common = _Common(
            hid=hid,
            ref=SupplierRef(
                supplier=self.ctx.supplier,
                system=SupplierSystem.JIRA,
                record_id=issue_id,
                number=number,
            ),
            title=clip(text(fields.get("summary")).strip() or number or issue_id, TITLE_MAX),
            description=clip(rich_text(fields.get("description"), "description"), TEXT_MAX),
            fields=fields,
            comments=comments,
            opened_at=_dt(fields.get("created"), "created"),
            updated_at=updated_at,
            recorded_at=recorded_at,
            version=version,
            origin=origin,
            deleted=deleted,
        )
        entity: Incident | Change
        if kind is EntityKind.INCIDENT:
            entity = self._incident(common, document)
        else:
            entity = self._change(common, issue_kind.change_type or ChangeType.NORMAL)

        if webhook is None:
            action: EventAction = (
                "created" if fields.get("created") == fields.get("updated") else "updated"
            )
        else:
            action = _ISSUE_EVENTS[webhook]
        return Translation(
            kind=kind,
            action=action,
            entity=entity,
            native_event_key=self._event_key(
                document, webhook, issue_id, comment, headers, version
            ),
            recorded_at=recorded_at,
        )

    def _incident(self, c: _Common, document: JsonObject) -> Incident:
        fields = c.fields
        status_name, category = self._status_of(fields)
        status = self.status.get(status_name) or self._category(category, status_name)
        supplier_status = status_name or category or None
        hold = (
            self.hold.get(status_name, HoldReason.OTHER)
            if status is IncidentStatus.ON_HOLD
            else None
        )
        reopened = self._reopened(status, status_name, document.get("changelog"))
        chosen = self._incident_priority(fields)
        resolution_name = label(fields.get("resolution"))
        resolution_date = _dt(fields.get("resolutiondate"), "resolutiondate")
        resolution = None
        if status in _DONE_STATUSES or (status is IncidentStatus.CANCELLED and resolution_name):
            code = (
                self.resolution.get(resolution_name, ResolutionCode.OTHER)
                if resolution_name
                else ResolutionCode.OTHER
            )
            resolution = Resolution(code=code, supplier_code=resolution_name or None)
        resolved_at = resolution_date if status in _DONE_STATUSES else None
        closed_at = (
            resolution_date if status in (IncidentStatus.CLOSED, IncidentStatus.CANCELLED) else None
        )
        if c.deleted:
            status, hold, reopened, closed_at = IncidentStatus.CANCELLED, None, False, c.recorded_at
        return Incident(
            hub_id=c.hid,
            supplier_ref=c.ref,
            title=c.title,
            description=c.description,
            status=status,
            supplier_status=supplier_status,
            hold_reason=hold,
            priority=chosen.priority,
            priority_given=chosen.given,
            category=self._request_type(fields) or None,
            ci=self._ci(fields),
            assignment_group=self._group(fields),
            assignee=label(fields.get("assignee")) or None,
            resolution=resolution,
            reopened=reopened,
            comments=c.comments,
            opened_at=c.opened_at,
            updated_at=c.updated_at,
            resolved_at=resolved_at,
            closed_at=closed_at,
            version=c.version,
            origin=c.origin,
        )

    def _change(self, c: _Common, change_type: ChangeType) -> Change:
        fields = c.fields
        status_name, category = self._status_of(fields)
        status = self.change_status.get(status_name)
        if status is None:
            status = self.change_category.get(category)
        if status is None:
            raise _unknown_status(status_name, category)
        if self.change_type_field:
            chosen = label(fields.get(self.change_type_field))
            if chosen:
                change_type = self.change_type(chosen, field=self.change_type_field)
        on_hold = bool(self.change_hold.get(status_name, False))
        resolution_name = label(fields.get("resolution"))
        ended = status in (ChangeStatus.CLOSED, ChangeStatus.CANCELLED)
        if c.deleted:
            status, on_hold = ChangeStatus.CANCELLED, False
        priority_name = label(fields.get("priority"))
        return Change(
            hub_id=c.hid,
            supplier_ref=c.ref,
            title=c.title,
            description=c.description,
            change_type=change_type,
            status=status,
            supplier_status=status_name or category or None,
            on_hold=on_hold,
            risk=self._select(fields, self.risk_field, self.risk),
            priority=self.priority(priority_name, field="priority") if priority_name else None,
            category=self._request_type(fields) or None,
            ci=self._ci(fields),
            assignment_group=self._group(fields),
            planned_start=self._custom_dt(fields, self.planned_start_field),
            planned_end=self._custom_dt(fields, self.planned_end_field),
            close_code=(resolution_name or None) if ended else None,
            implementation_plan=self._custom_text(fields, self.implementation_plan_field),
            backout_plan=self._custom_text(fields, self.backout_plan_field),
            comments=c.comments,
            opened_at=c.opened_at,
            updated_at=c.updated_at,
            version=c.version,
            origin=c.origin,
        )

    def _kind_of(self, type_name: str, fields: JsonObject) -> _maps.IssueKind:
        """Incident or change: the request type's mapping, else the issue type's (a
        ``[System] `` prefix of JSM's own types ignored); unmapped names the config key."""
        request_type = self._request_type(fields)
        found = self.request_kind.get(request_type) if request_type else None
        if found is None:
            found = self.issue_type.get(type_name)
        if found is None and type_name.startswith("[System] "):
            found = self.issue_type.get(type_name.removeprefix("[System] "))
        if found is not None:
            return found
        supplier = self.ctx.supplier
        where = f"suppliers[{supplier}].value_maps.issue_type.{type_name[:80]!r}"
        if request_type:
            where += f" (or value_maps.request_type.{request_type[:80]!r})"
        raise UnsupportedPayload(
            f"Jira issue type {type_name[:80]!r} of supplier '{supplier}' is not mapped to an "
            f"incident or a change: set {where} to incident, change, standard or emergency "
            "in the hub configuration, then replay this dead letter"
        )

    # -- status ------------------------------------------------------------------------------

    def _status_of(self, fields: JsonObject) -> tuple[str, str]:
        """(status name, statusCategory key/name/id); the request type's status as fallback."""
        status = obj(fields.get("status"), "status")
        name = text(status.get("name")).strip()
        category_obj = obj(status.get("statusCategory"), "status.statusCategory")
        category = (
            text(category_obj.get("key")).strip()
            or text(category_obj.get("name")).strip()
            or id_text(category_obj.get("id"))
        )
        if not name and not category and self.request_type_field:
            request = fields.get(self.request_type_field)
            current = request.get("currentStatus") if isinstance(request, dict) else None
            if isinstance(current, dict):
                name = text(current.get("status")).strip()
                category = text(current.get("statusCategory")).strip()
        if not name and not category:
            raise MissingField("status", "Jira issue")
        return name, category

    def _category(self, category: str, name: str) -> IncidentStatus:
        found = self.category.get(category)
        if found is None:
            raise _unknown_status(name, category)
        return found

    def _reopened(self, status: IncidentStatus, name: str, changelog: object) -> bool:
        """The ticket left a done status for an open one (by this change, or by its name)."""
        if not status.is_open:
            return False
        if name and fold(name) in self.reopened_names:
            return True
        if not isinstance(changelog, dict):
            return False
        items = changelog.get("items")
        if not isinstance(items, list):
            return False
        for item in items:
            if not isinstance(item, dict):
                continue
            field = item.get("fieldId") or item.get("field")
            if field == "status":
                before = self.status.get(text(item.get("fromString")))
                if before in _ENDED_STATUSES:
                    return True
            elif field == "resolution":
                had = item.get("from") or item.get("fromString")
                has = item.get("to") or item.get("toString")
                if had and not has:
                    return True
        return False

    # -- fields ------------------------------------------------------------------------------

    def _incident_priority(self, fields: JsonObject) -> PriorityChoice:
        name = label(fields.get("priority"))
        given = self.priority(name, field="priority") if name else None
        return choose_priority(given, None, None, self.default_priority)

    def _request_type(self, fields: JsonObject) -> str:
        if not self.request_type_field:
            return ""
        request = fields.get(self.request_type_field)
        if not isinstance(request, dict):
            return label(request)
        return label(request.get("requestType"))

    def _ci(self, fields: JsonObject) -> CiRef | None:
        value = fields.get(self.ci_field) if self.ci_field else None
        if isinstance(value, list):
            value = next((item for item in value if item), None)
        if isinstance(value, str) and value.strip():
            return CiRef(name=value.strip())
        if not isinstance(value, dict):
            return None
        record_id = id_text(value.get("id")) or id_text(value.get("objectId"))
        name = label(value)
        if not record_id and not name:
            return None
        return CiRef(record_id=record_id or None, name=name or None)

    def _group(self, fields: JsonObject) -> str | None:
        if not self.group_field:
            return None
        return label(fields.get(self.group_field)) or None

    def _select(self, fields: JsonObject, field: str, table: ValueMap[Any]) -> Any:
        if not field:
            return None
        chosen = label(fields.get(field))
        return table(chosen, field=field) if chosen else None

    def _custom_dt(self, fields: JsonObject, field: str) -> datetime | None:
        return _dt(fields.get(field), field) if field else None

    def _custom_text(self, fields: JsonObject, field: str) -> str | None:
        if not field:
            return None
        return clip(rich_text(fields.get(field), field), TEXT_MAX) or None

    # -- comments and origin -----------------------------------------------------------------

    def _comment(self, raw: JsonObject, hid: str, updated_at: datetime) -> Comment:
        comment_id = id_text(raw.get("id"))
        body = clip(rich_text(raw.get("body"), "comment.body"), TEXT_MAX)
        created = _dt(raw.get("created"), "comment.created")
        author = obj(raw.get("author"), "comment.author")
        name = label(author) or text(author.get("accountId")) or None
        public = raw.get("jsdPublic")
        if isinstance(public, str):
            public = public.strip().lower() != "false"
        if public is None:
            public = not raw.get("visibility")  # a role/group restriction is internal
        return Comment(
            comment_id=derived_id(
                hid, "comment", comment_id or f"{(created or updated_at).isoformat()}|{body}"
            ),
            body=body,
            visibility=Visibility.PUBLIC if public else Visibility.INTERNAL,
            author=name,
            created_at=created,
            by_schakel=body.startswith(self.marker) or self._is_schakel(author),
        )

    def _comments(
        self,
        fields: JsonObject,
        hid: str,
        updated_at: datetime,
        event_comment: Comment | None,
        raw_comment: JsonObject,
        webhook: str | None,
    ) -> tuple[Comment, ...]:
        """The comments the issue carries (REST ``fields.comment``) and the event's own one."""
        found: dict[str, Comment] = {}
        listed = fields.get("comment")
        entries = listed.get("comments") if isinstance(listed, dict) else listed
        if isinstance(entries, list):
            for entry in entries:
                if isinstance(entry, dict):
                    comment = self._comment(entry, hid, updated_at)
                    found[comment.comment_id] = comment
        if event_comment is not None:
            found[event_comment.comment_id] = event_comment
        elif webhook == "comment_deleted" and raw_comment:
            gone = id_text(raw_comment.get("id"))
            if gone:
                found.pop(derived_id(hid, "comment", gone), None)
        if not found:
            return ()
        if len(found) == 1:
            return tuple(found.values())
        return tuple(sorted(found.values(), key=lambda c: c.created_at or updated_at))

    def _origin(
        self,
        document: JsonObject,
        webhook: str | None,
        comment: JsonObject,
        event_comment: Comment | None,
    ) -> Origin:
        actor: JsonObject = {}
        if webhook in ("comment_created", "comment_updated") and comment:
            who = comment.get("updateAuthor") if webhook == "comment_updated" else None
            actor = obj(who or comment.get("author"), "comment.author")
        if not actor and webhook:
            actor = obj(document.get("user"), "user")
        by_schakel = self._is_schakel(actor) or (
            event_comment is not None and event_comment.body.startswith(self.marker)
        )
        name = label(actor) or text(actor.get("accountId")) or None
        return Origin(by_schakel=by_schakel, actor=name)

    def _is_schakel(self, user: JsonObject) -> bool:
        if not user:
            return False
        account = text(user.get("accountId")) or text(user.get("name"))
        shown = text(user.get("displayName"))
        return (bool(account) and account.casefold() in self.accounts) or (
            bool(shown) and shown.casefold() in self.accounts
        )

    # -- identity ----------------------------------------------------------------------------

    def _event_key(
        self,
        document: JsonObject,
        webhook: str | None,
        issue_id: str,
        comment: JsonObject,
        headers: Mapping[str, bytes],
        version: int,
    ) -> str:
        """Stable across redeliveries of one event; different for every other event."""
        if webhook is None:
            return f"issue:{issue_id}:snapshot:{version}"
        delivery = header(headers, _WEBHOOK_ID) if headers else ""
        if delivery:
            return f"issue:{issue_id}:webhook:{delivery}"
        stamp = document.get("timestamp")
        parts = [f"issue:{issue_id}", webhook, str(stamp if stamp is not None else version)]
        changelog = document.get("changelog")
        if isinstance(changelog, dict):
            changelog_id = id_text(changelog.get("id"))
            if changelog_id:
                parts.append(f"changelog:{changelog_id}")
        comment_id = id_text(comment.get("id")) if comment else ""
        if comment_id:
            parts.append(f"comment:{comment_id}")
        return ":".join(parts)


class _Common:
    """What an incident and a change of one event share."""

    __slots__ = (
        "comments",
        "deleted",
        "description",
        "fields",
        "hid",
        "opened_at",
        "origin",
        "recorded_at",
        "ref",
        "title",
        "updated_at",
        "version",
    )

    def __init__(
        self,
        *,
        hid: str,
        ref: SupplierRef,
        title: str,
        description: str,
        fields: JsonObject,
        comments: tuple[Comment, ...],
        opened_at: datetime | None,
        updated_at: datetime,
        recorded_at: datetime,
        version: int,
        origin: Origin,
        deleted: bool,
    ) -> None:
        self.hid = hid
        self.ref = ref
        self.title = title
        self.description = description
        self.fields = fields
        self.comments = comments
        self.opened_at = opened_at
        self.updated_at = updated_at
        self.recorded_at = recorded_at
        self.version = version
        self.origin = origin
        self.deleted = deleted


def _dt(value: object, field: str) -> datetime | None:
    try:
        return parse_datetime(value, field=field)
    except OverflowError:
        raise InvalidValue(field, value, "a datetime in range") from None


def _unknown_status(name: str, category: str) -> InvalidValue:
    return InvalidValue(
        "status",
        name or category,
        "a status name in the value map or a statusCategory of new, indeterminate or done",
    )
