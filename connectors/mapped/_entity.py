"""One compiled entity of a mapping: payload -> :class:`~connectors._base.Translation`.

Rules the common model implies, so a mapping need not state them:

- Incident priority: the mapped priority, else impact x urgency (ITIL matrix), else the
  supplier's ``default_priority`` option or unknown, with ``priority_given`` false
  (:mod:`connectors._model`).
- Incident hold reason: only while the status is on_hold; ``other`` when none is mapped or
  the payload gives none.
- Incident ``reopened``: only while the status is open (new, in progress, on hold), so a
  reopen counter or flag that stays set does not mark a resolved ticket as reopened.
- A nested object (``ci``, ``resolution``) is present when the payload gives any of its
  fields (a constant counts, a default does not); defaults then fill the rest.
- CI: ``technical_supplier`` is the supplier when unmapped; ``deleted_when`` makes the event
  a deletion. A ticket matching ``deleted_when`` is UnsupportedPayload.
- Origin: ``origin.actor`` in the supplier's Schakel accounts, or a Schakel comment (marker
  or account) written at ``updated_at``, marks an echo of Schakel's own change.
- Version: the ``version`` value, else ``updated_at`` in epoch milliseconds.
- Event key: ``<kind>:<record_id>:`` then the ``event_key`` values joined by ``:``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from connectors._base import Entity, Translation
from connectors._model import choose_priority, hold_reason_while_on_hold
from connectors.errors import InvalidValue, MissingField, UnsupportedPayload
from connectors.mapped._paths import Getter
from connectors.mapped._readers import CommentsReader, FieldReader, key_text
from schemas import (
    Change,
    ConfigurationItem,
    EntityKind,
    EventAction,
    Incident,
    IncidentStatus,
    Priority,
    SupplierSystem,
    Visibility,
    derived_id,
    hub_id,
)

__all__ = ["EntityReader", "Group", "Matcher"]

_MODELS: dict[EntityKind, type[Incident] | type[Change] | type[ConfigurationItem]] = {
    EntityKind.INCIDENT: Incident,
    EntityKind.CHANGE: Change,
    EntityKind.CI: ConfigurationItem,
}
_OPEN = frozenset({IncidentStatus.NEW, IncidentStatus.IN_PROGRESS, IncidentStatus.ON_HOLD})
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_LATEST = datetime.max.replace(tzinfo=UTC)

#: True when a condition (``when``, ``created_when``, ``deleted_when``) holds for a payload.
Matcher = Callable[[dict[str, Any]], bool]
#: A nested object: its name, its (leaf, reader) pairs, and the leaves it cannot lack.
Group = tuple[str, tuple[tuple[str, FieldReader], ...], tuple[str, ...]]


class EntityReader:
    """Reads one entity kind out of payloads the mapping's ``when`` picked for it."""

    __slots__ = (
        "accounts",
        "actor",
        "comments",
        "created_when",
        "default_priority",
        "deleted_when",
        "event_key",
        "groups",
        "hold_reason",
        "kind",
        "marker",
        "model",
        "number",
        "plain",
        "priority",
        "record_id",
        "ref_extras",
        "reopened",
        "supplier",
        "updated_at",
        "version",
    )

    def __init__(
        self,
        kind: EntityKind,
        *,
        supplier: str,
        accounts: frozenset[str],
        marker: str,
        record_id: FieldReader,
        number: FieldReader | None,
        updated_at: FieldReader,
        version: FieldReader | None,
        event_key: tuple[tuple[Getter, str], ...],
        created_when: Matcher | None,
        deleted_when: Matcher | None,
        plain: tuple[tuple[str, FieldReader], ...],
        groups: tuple[Group, ...],
        ref_extras: tuple[tuple[str, FieldReader], ...],
        specials: dict[str, FieldReader],
        comments: CommentsReader | None,
        default_priority: Priority | None = None,
    ) -> None:
        self.kind = kind
        self.default_priority = default_priority
        self.model = _MODELS[kind]
        self.supplier = supplier
        self.accounts = accounts
        self.marker = marker
        self.record_id = record_id
        self.number = number
        self.updated_at = updated_at
        self.version = version
        self.event_key = event_key
        self.created_when = created_when
        self.deleted_when = deleted_when
        self.plain = plain
        self.groups = groups
        self.ref_extras = ref_extras
        self.priority = specials.get("priority")
        self.hold_reason = specials.get("hold_reason")
        self.reopened = specials.get("reopened")
        self.actor = specials.get("origin.actor")
        self.comments = comments

    def translate(self, doc: dict[str, Any]) -> Translation:
        kind = self.kind
        record_id: str = self.record_id.read(doc)
        updated_at: datetime = self.updated_at.read(doc)
        deleted = self.deleted_when is not None and self.deleted_when(doc)
        if deleted and kind is not EntityKind.CI:
            raise UnsupportedPayload(f"a deleted {kind.value} is not translated (only CIs)")
        hid = hub_id(self.supplier, kind, record_id)
        ref: dict[str, Any] = {
            "supplier": self.supplier,
            "system": SupplierSystem.MAPPED,
            "record_id": record_id,
            "number": self.number.read(doc) if self.number is not None else None,
        }
        for leaf, reader in self.ref_extras:
            value = reader.read(doc)
            if value is not None:
                ref[leaf] = value
        data: dict[str, Any] = {"hub_id": hid, "supplier_ref": ref, "updated_at": updated_at}
        for name, reader in self.plain:
            value = reader.read(doc)
            if value is not None:
                data[name] = value
        for group in self.groups:
            self._group(doc, data, group)
        if kind is EntityKind.INCIDENT:
            self._incident_rules(doc, data)
        elif kind is EntityKind.CI:
            data.setdefault("technical_supplier", self.supplier)
            data["deleted"] = deleted
        echo = False
        if self.comments is not None:
            data["comments"], echo = self._comments(doc, hid, updated_at)
        actor = self.actor.read(doc) if self.actor is not None else None
        data["origin"] = {
            "by_schakel": echo or (actor is not None and actor.casefold() in self.accounts),
            "actor": actor,
        }
        version = self.version.read(doc) if self.version is not None else None
        data["version"] = (updated_at - _EPOCH) // _MS if version is None else version
        action: EventAction = (
            "deleted"
            if deleted
            else "created"
            if self.created_when is not None and self.created_when(doc)
            else "updated"
        )
        key = f"{kind.value}:{record_id}"
        for get, label in self.event_key:
            key += ":" + key_text(get(doc), label)
        return Translation(
            kind=kind,
            action=action,
            entity=_build(self.model, data, kind.value),
            native_event_key=key,
            recorded_at=updated_at,
        )

    def _group(self, doc: dict[str, Any], data: dict[str, Any], group: Group) -> None:
        name, members, required = group
        found: dict[str, Any] = {}
        for leaf, reader in members:
            value = reader.lookup(doc)
            if value is not None:
                found[leaf] = value
        if not found:
            return
        for leaf, reader in members:
            if leaf not in found and reader.default is not None:
                found[leaf] = reader.default
        for leaf in required:
            if leaf not in found:
                raise MissingField(f"{name}.{leaf}", self.kind.value)
        data[name] = found

    def _incident_rules(self, doc: dict[str, Any], data: dict[str, Any]) -> None:
        status = data.get("status")
        if status is IncidentStatus.ON_HOLD:
            reason = self.hold_reason.read(doc) if self.hold_reason is not None else None
            data["hold_reason"] = hold_reason_while_on_hold(status, reason)
        priority = self.priority.read(doc) if self.priority is not None else None
        chosen = choose_priority(
            priority, data.get("impact"), data.get("urgency"), self.default_priority
        )
        data["priority"] = chosen.priority
        data["priority_given"] = chosen.given
        if self.reopened is not None:
            data["reopened"] = bool(self.reopened.read(doc)) and status in _OPEN

    def _comments(
        self, doc: dict[str, Any], hid: str, updated_at: datetime
    ) -> tuple[list[dict[str, Any]], bool]:
        spec = self.comments
        assert spec is not None
        items = spec.items(doc)
        if not items:
            return [], False
        out: list[dict[str, Any]] = []
        echo = False
        marker, accounts = self.marker, self.accounts
        for item in items:
            body: str | None = spec.body.read(item)
            if body is None:
                continue
            native_id = spec.id.read(item) if spec.id is not None else None
            author = spec.author.read(item) if spec.author is not None else None
            created = spec.created_at.read(item) if spec.created_at is not None else None
            visibility = spec.visibility.read(item) or Visibility.INTERNAL
            if native_id is not None:
                comment_id = derived_id(hid, "comment", native_id)
            else:
                stamp = created.isoformat() if created is not None else ""
                comment_id = derived_id(hid, "comment", stamp, body)
            by_schakel = body.startswith(marker) or (
                author is not None and author.casefold() in accounts
            )
            echo = echo or (by_schakel and created == updated_at)
            out.append(
                {
                    "comment_id": comment_id,
                    "body": body,
                    "visibility": visibility,
                    "author": author,
                    "created_at": created,
                    "by_schakel": by_schakel,
                }
            )
        out.sort(key=lambda c: c["created_at"] or _LATEST)
        return out, echo


def _build(
    model: type[Incident] | type[Change] | type[ConfigurationItem],
    data: dict[str, Any],
    entity: str,
) -> Entity:
    """One validation of the whole object; its failures are MissingField or InvalidValue."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in error["loc"]) or entity
        if error["type"] == "missing":
            raise MissingField(where, entity) from None
        raise InvalidValue(f"{entity}.{where}", error.get("input"), error["msg"]) from None
