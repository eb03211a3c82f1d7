"""ServiceNow CMDB -> :class:`~schemas.ConfigurationItem`: CI classes and ``cmdb_rel_ci``.

CI status: ``operational_status`` (1 Operational, 2 Non-Operational, 3 Repair in Progress,
4 DR Standby, 5 Ready, 6 Retired, 7 Pipeline, 8 Catalog) decides; ``install_status`` 7
(Retired) overrides it, and decides alone when there is no operational status. Routing
attributes come from site-defined fields, named in the supplier's options:
``ci_field_gemeenten`` (default ``u_gemeenten``, comma-separated CBS codes GMxxxx),
``ci_field_gemma`` (``u_gemma_component``) and ``ci_field_fb_team`` (``u_fb_team``).

A relation (``cmdb_rel_ci``: parent, child, type "Depends on::Used by") becomes a
ConfigurationItem *of its own*, keyed by the relation's sys_id, with ``ci_class``
``cmdb_rel_ci`` and two relations, one seen from each end: ``relations[0]`` is the parent's
view (kind from the parent label, target the child), ``relations[1]`` the child's view (kind
from the child label, target the parent). It is not folded into the parent CI: an event under
the parent's hub id would carry none of the parent's own attributes (compacted CMDB topics
keyed by hub id would lose them) and its version (the relation's ``sys_mod_count``) would be
compared with the parent's, so relation events would be dropped as stale or make the parent's
own updates look stale. A relation's deletion removes exactly that one relation.

A deletion (``operation``/``schakel-operation`` ``delete``) is action ``deleted`` with
``deleted`` true; its version is one past the record's last ``sys_mod_count``.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from connectors._base import SupplierContext, Translation
from connectors.errors import InvalidValue, MissingField
from connectors.kit import gemeente_codes
from connectors.servicenow import _maps
from connectors.servicenow._common import (
    SHORT_MAX,
    Lookup,
    Shared,
    build,
    clip,
    required,
    version_of,
)
from connectors.servicenow._native import (
    Record,
    display,
    is_display_form,
    moment,
    raw,
    reference,
)
from schemas import CiStatus, ConfigurationItem, EntityKind, EventAction, SupplierSystem

__all__ = ["CiReader"]

_NOT_SLUG = re.compile(r"[^0-9a-z]+")


def _as_text(value: str) -> str:
    return value


class CiReader:
    """Reads CMDB records (CIs of any class, and relations) of one supplier."""

    def __init__(self, ctx: SupplierContext, shared: Shared) -> None:
        maps = ctx.value_maps
        options = ctx.options
        self.shared = shared
        self.supplier = ctx.supplier
        self.operational = Lookup.of("ci_status", _maps.CI_OPERATIONAL_STATUS, CiStatus, maps)
        self.install = Lookup.of("ci_install_status", _maps.CI_INSTALL_STATUS, CiStatus, maps)
        self.relation_type = Lookup.of("ci_relation_type", _maps.CI_RELATION_TYPE, _as_text, maps)
        self.field_gemeenten = options.get("ci_field_gemeenten") or "u_gemeenten"
        self.field_gemma = options.get("ci_field_gemma") or "u_gemma_component"
        self.field_fb_team = options.get("ci_field_fb_team") or "u_fb_team"

    def item(self, rec: Record, table: str, operation: EventAction | None) -> Translation:
        sys_id = required(rec, "sys_id", table)
        local = (
            self.shared.timezone
            if is_display_form(rec, "operational_status") or is_display_form(rec, "install_status")
            else None
        )
        updated_at = moment(rec, "sys_updated_on", local)
        if updated_at is None:
            raise MissingField("sys_updated_on", table)
        deleted = operation == "deleted"
        status, supplier_status = self._status(rec, deleted)
        mod_count = raw(rec, "sys_mod_count")
        updated_by = raw(rec, "sys_updated_by")
        data: dict[str, Any] = {
            "hub_id": self.shared.ids.hub(EntityKind.CI, sys_id),
            "supplier_ref": self._ref(sys_id, rec),
            "name": clip(display(rec, "name").strip() or sys_id, SHORT_MAX),
            "ci_class": table,
            "status": status,
            "supplier_status": supplier_status,
            "gemeenten": self._gemeenten(rec),
            "fb_team": display(rec, self.field_fb_team).strip() or None,
            "technical_supplier": self.supplier,
            "gemma_component": display(rec, self.field_gemma).strip() or None,
            "support_group": display(rec, "support_group") or None,
            "deleted": deleted,
            "updated_at": updated_at,
            "version": version_of(mod_count, updated_at) + (1 if deleted and mod_count else 0),
            "origin": self.shared.origin(updated_by),
        }
        marker = ":deleted" if deleted else ""
        return Translation(
            kind=EntityKind.CI,
            action=operation or ("created" if mod_count == "0" else "updated"),
            entity=build(ConfigurationItem, data, table),
            native_event_key=f"ci:{sys_id}{marker}:{mod_count}:{updated_at.isoformat()}",
            recorded_at=updated_at,
        )

    def relation(self, rec: Record, operation: EventAction | None) -> Translation:
        sys_id = required(rec, "sys_id", "cmdb_rel_ci")
        updated_at = moment(rec, "sys_updated_on")
        if updated_at is None:
            raise MissingField("sys_updated_on", "cmdb_rel_ci")
        deleted = operation == "deleted"
        parent_id, parent_name = self._end(rec, "parent", deleted)
        child_id, child_name = self._end(rec, "child", deleted)
        relations: list[dict[str, Any]] = []
        name = sys_id
        if parent_id and child_id:
            parent_label, child_label = self._labels(rec)
            relations = [
                {
                    "kind": _slug(parent_label, "type"),
                    "target_record_id": child_id,
                    "target_name": child_name,
                },
                {
                    "kind": _slug(child_label, "type"),
                    "target_record_id": parent_id,
                    "target_name": parent_name,
                },
            ]
            name = f"{parent_name or parent_id} {parent_label.lower()} {child_name or child_id}"
        mod_count = raw(rec, "sys_mod_count")
        updated_by = raw(rec, "sys_updated_by")
        data: dict[str, Any] = {
            "hub_id": self.shared.ids.hub(EntityKind.CI, sys_id),
            "supplier_ref": self._ref(sys_id, rec),
            "name": clip(name, SHORT_MAX),
            "ci_class": "cmdb_rel_ci",
            "status": CiStatus.RETIRED if deleted else CiStatus.OPERATIONAL,
            "technical_supplier": self.supplier,
            "relations": relations,
            "deleted": deleted,
            "updated_at": updated_at,
            "version": version_of(mod_count, updated_at) + (1 if deleted and mod_count else 0),
            "origin": self.shared.origin(updated_by),
        }
        marker = ":deleted" if deleted else ""
        return Translation(
            kind=EntityKind.CI,
            action=operation or ("created" if mod_count == "0" else "updated"),
            entity=build(ConfigurationItem, data, "cmdb_rel_ci"),
            native_event_key=f"ci_rel:{sys_id}{marker}:{mod_count}:{updated_at.isoformat()}",
            recorded_at=updated_at,
        )

    def _ref(self, sys_id: str, rec: Record) -> dict[str, Any]:
        return {
            "supplier": self.supplier,
            "system": SupplierSystem.SERVICENOW,
            "record_id": sys_id,
            "number": raw(rec, "number") or None,
            "correlation_id": raw(rec, "correlation_id") or None,
            "correlation_display": raw(rec, "correlation_display") or None,
        }

    def _status(self, rec: Record, deleted: bool) -> tuple[CiStatus, str | None]:
        install = raw(rec, "install_status")
        installed = self.install(install, field="install_status") if install else None
        if installed is CiStatus.RETIRED:
            return installed, display(rec, "install_status")
        operational = raw(rec, "operational_status")
        if operational:
            status = self.operational(operational, field="operational_status")
            return status, display(rec, "operational_status")
        if installed is not None:
            return installed, display(rec, "install_status")
        return (CiStatus.RETIRED if deleted else CiStatus.OPERATIONAL), None

    def _gemeenten(self, rec: Record) -> tuple[str, ...]:
        field = self.field_gemeenten
        return gemeente_codes(raw(rec, field), field)

    def _end(self, rec: Record, field: str, deleted: bool) -> tuple[str | None, str | None]:
        record_id, name = reference(rec, field)
        if record_id:
            return record_id, name
        if name:
            raise InvalidValue(field, name, "a reference with the CI's sys_id (raw or both forms)")
        if deleted:
            return None, None
        raise MissingField(field, "cmdb_rel_ci")

    def _labels(self, rec: Record) -> tuple[str, str]:
        type_id, label = reference(rec, "type")
        if not label and type_id:
            label = self.relation_type.get(type_id)
            if label is None:
                if "::" not in type_id:
                    raise InvalidValue(
                        "type",
                        type_id,
                        "a relation type label 'Parent::Child' (send display values, or map "
                        "the type's sys_id in value_maps.ci_relation_type)",
                    )
                label = type_id
        if not label:
            raise MissingField("type", "cmdb_rel_ci")
        parent, sep, child = label.partition("::")
        if not sep or not parent.strip() or not child.strip():
            raise InvalidValue("type", label, "a relation type label 'Parent::Child'")
        return parent.strip(), child.strip()


def _slug(label: str, field: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    slug = _NOT_SLUG.sub("_", ascii_text.casefold()).strip("_")
    if not slug:
        raise InvalidValue(field, label, "a relation label with letters")
    return slug
