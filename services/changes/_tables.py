"""The change calendar's tables, declared on the hub's shared metadata.

* ``change_schedule``: the latest version of every change (the Change as JSON) with its
  planned window, supplier and what it affects, so ``schakel changes calendar`` reads the
  schedule without Kafka;
* ``change_findings``: every finding reported, its state (raised or withdrawn), revision
  and the last event's data;
* ``change_notices``: every notice sent (its id is the routed event's id).
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Boolean, Column, DateTime, Index, String, Table, Text

from services.store import metadata

__all__ = ["change_findings", "change_notices", "change_schedule"]

change_schedule = Table(
    "change_schedule",
    metadata,
    Column("hub_id", String(64), primary_key=True),
    Column("supplier", String(64), nullable=False),
    Column("version", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("planned_start", DateTime(timezone=True)),
    Column("planned_end", DateTime(timezone=True)),
    Column("change", JSON, nullable=False),
    Column("impact", JSON, nullable=False),
    Index("ix_change_schedule_planned_start", "planned_start"),
)

change_findings = Table(
    "change_findings",
    metadata,
    Column("finding_id", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("revision", BigInteger, nullable=False),
    Column("fingerprint", Text, nullable=False),
    Column("finding", JSON, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

change_notices = Table(
    "change_notices",
    metadata,
    Column("notice_id", String(64), primary_key=True),
    Column("hub_id", String(64), nullable=False),
    Column("gemeente", String(16), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("stamp", String(80), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=False),
    Index("ix_change_notices_hub_id", "hub_id"),
)
