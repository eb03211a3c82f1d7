"""The SLA watch's tables, declared on the hub's shared metadata.

``sla_tickets``: per hub id, the ticket's history as the clocks read it (one entry per
normalised event: time, version, phase, hold reason, priority, the supplier's due times) and
the next moment a warning or breach falls due (the timer's index). Rebuildable by replaying
the normalised topics.

``sla_runs`` and ``sla_run_clocks``: every ``schakel sla recompute`` is a new run (version)
with the result of every clock; runs are only ever added, never changed or removed, so
earlier results stay beside the new ones.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from services.store import metadata

__all__ = ["sla_run_clocks", "sla_runs", "sla_tickets"]

sla_tickets = Table(
    "sla_tickets",
    metadata,
    Column("hub_id", String(64), primary_key=True),
    Column("entity", String(16), nullable=False),
    Column("supplier", String(64), nullable=False),
    Column("number", String(100)),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("last_at", DateTime(timezone=True), nullable=False),
    Column("history", Text, nullable=False),
    Column("next_due_at", DateTime(timezone=True)),
    Index("ix_sla_tickets_next_due_at", "next_due_at"),
    Index("ix_sla_tickets_opened_at", "opened_at"),
)

sla_runs = Table(
    "sla_runs",
    metadata,
    Column("run", Integer, primary_key=True, autoincrement=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("since", DateTime(timezone=True), nullable=False),
    Column("contracts", Text, nullable=False),
    Column("digest", String(64), nullable=False),
    Column("tickets", Integer, nullable=False),
)

sla_run_clocks = Table(
    "sla_run_clocks",
    metadata,
    Column("run", Integer, primary_key=True),
    Column("hub_id", String(64), primary_key=True),
    Column("clock", String(16), primary_key=True),
    Column("supplier", String(64), nullable=False),
    Column("number", String(100)),
    Column("priority", String(4), nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("state", String(16), nullable=False),
    Column("met", Boolean),
    Column("business_minutes", Float, nullable=False),
    Column("paused_minutes", Float, nullable=False),
    Column("target_minutes", Integer, nullable=False),
    Column("calendar", String(100), nullable=False),
)
