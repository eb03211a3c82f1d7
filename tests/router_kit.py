"""Test material for the router: CIs, tickets, normalised events, fakes for its adapters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from schemas import (
    Change,
    ChangeStatus,
    ChangeType,
    CiRef,
    CiRelation,
    ConfigurationItem,
    EntityKind,
    Incident,
    IncidentStatus,
    Priority,
    SupplierRef,
    SupplierSystem,
    event_id,
    event_type,
    hub_id,
)
from schemas.envelope import DATASCHEMA, encode_event
from schemas.topics import CHANGES, CIS, INCIDENTS
from services.router import DecisionRecord
from tests.fakes import FakeRecord

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
SOURCE = "urn:nld:kvk:90000011:systeem:servicenow-prod"
DRECHTSTEDEN = ("GM0482", "GM0505", "GM0523", "GM0531", "GM0590", "GM0610", "GM0642")


def ci(
    record_id: str,
    name: str | None = None,
    *,
    gemeenten: Sequence[str] = (),
    gemma: str | None = None,
    fb_team: str | None = None,
    relations: Sequence[tuple[str, str]] = (),
    ci_class: str = "cmdb_ci_appl",
    supplier: str = "kpn",
    deleted: bool = False,
    version: int = 1,
) -> ConfigurationItem:
    """A CI; ``relations`` are (kind, target record id) read "<this> <kind> <target>"."""
    return ConfigurationItem(
        hub_id=hub_id(supplier, EntityKind.CI, record_id),
        supplier_ref=SupplierRef(
            supplier=supplier, system=SupplierSystem.SERVICENOW, record_id=record_id
        ),
        name=name or record_id,
        ci_class=ci_class,
        gemeenten=tuple(gemeenten),
        gemma_component=gemma,
        fb_team=fb_team,
        relations=tuple(CiRelation(kind=k, target_record_id=t) for k, t in relations),
        deleted=deleted,
        updated_at=T0,
        version=version,
    )


def relation_record(
    record_id: str, parent: str, parent_kind: str, child: str, child_kind: str, **kw: object
) -> ConfigurationItem:
    """A ServiceNow relation record (cmdb_rel_ci) as the connector makes it."""
    return ci(
        record_id,
        f"{parent} {parent_kind} {child}",
        relations=((parent_kind, child), (child_kind, parent)),
        ci_class="cmdb_rel_ci",
        **kw,  # type: ignore[arg-type]
    )


def incident(
    record_id: str = "inc-1",
    *,
    title: str = "Storing",
    description: str = "",
    ci_record: str | None = None,
    ci_name: str | None = None,
    supplier: str = "kpn",
    priority: Priority = Priority.P3,
    category: str | None = None,
    version: int = 1,
) -> Incident:
    ref = CiRef(record_id=ci_record, name=ci_name) if (ci_record or ci_name) else None
    return Incident(
        hub_id=hub_id(supplier, EntityKind.INCIDENT, record_id),
        supplier_ref=SupplierRef(
            supplier=supplier, system=SupplierSystem.SERVICENOW, record_id=record_id
        ),
        title=title,
        description=description,
        status=IncidentStatus.NEW,
        priority=priority,
        category=category,
        ci=ref,
        updated_at=T0,
        version=version,
    )


def change(
    record_id: str = "chg-1",
    *,
    title: str = "Wijziging",
    ci_record: str | None = None,
    supplier: str = "kpn",
    priority: Priority | None = None,
) -> Change:
    return Change(
        hub_id=hub_id(supplier, EntityKind.CHANGE, record_id),
        supplier_ref=SupplierRef(
            supplier=supplier, system=SupplierSystem.SERVICENOW, record_id=record_id
        ),
        title=title,
        change_type=ChangeType.NORMAL,
        status=ChangeStatus.SCHEDULED,
        priority=priority,
        ci=CiRef(record_id=ci_record) if ci_record else None,
        updated_at=T0,
        version=1,
    )


def ticket_event(ticket: Incident | Change, *, native_key: str | None = None) -> bytes:
    """The normalised CloudEvent of a ticket, as the normaliser writes it."""
    kind = EntityKind.INCIDENT if isinstance(ticket, Incident) else EntityKind.CHANGE
    supplier = ticket.supplier_ref.supplier
    return encode_event(
        id=event_id(supplier, native_key or f"{ticket.hub_id}:{ticket.version}"),
        source=SOURCE,
        type=event_type(kind, "updated"),
        subject=ticket.hub_id,
        time=ticket.updated_at,
        dataschema=DATASCHEMA[kind],
        sequence=ticket.version,
        supplierid=supplier,
        data=ticket,
    )


def ticket_record(ticket: Incident | Change, offset: int = 0) -> FakeRecord:
    topic = INCIDENTS if isinstance(ticket, Incident) else CHANGES
    return FakeRecord(topic, 0, offset, ticket.hub_id.encode(), ticket_event(ticket))


def ci_event(item: ConfigurationItem) -> bytes:
    return encode_event(
        id=event_id(item.supplier_ref.supplier, f"ci:{item.hub_id}:{item.version}"),
        source=SOURCE,
        type=event_type(EntityKind.CI, "deleted" if item.deleted else "updated"),
        subject=item.hub_id,
        time=item.updated_at,
        dataschema=DATASCHEMA[EntityKind.CI],
        sequence=item.version,
        supplierid=item.supplier_ref.supplier,
        data=item,
    )


def ci_record(item: ConfigurationItem, offset: int = 0, partition: int = 0) -> FakeRecord:
    return FakeRecord(CIS, partition, offset, item.hub_id.encode(), ci_event(item))


@dataclass
class MemoryDecisionLog:
    """Decisions kept in memory, idempotent on (event id, destination) like the table."""

    rows: dict[tuple[str, str], DecisionRecord] = field(default_factory=dict)

    async def save(self, records: Sequence[DecisionRecord]) -> None:
        for record in records:
            self.rows.setdefault((record.event_id, record.destination), record)

    async def close(self) -> None:
        pass
