"""The read model's tables: the cockpit's projection of the hub's topics.

Their own :class:`MetaData` (not the hub's shared one): the schema is managed by the Alembic
migrations in ``services/feed/migrations`` (``create_all`` is never used on it), so a read
model in production PostgreSQL is upgraded in place.

* ``feed_tickets``: one row per incident or change, its latest state and derived figures
  (reopens, hand-offs, SLA state, deliveries), the hash of its last timeline entry;
* ``feed_ticket_gemeenten``: the gemeenten and teams a ticket was routed to (tenant isolation
  filters on it);
* ``feed_timeline``: the audit trail per ticket, hash-chained (``prev_hash`` -> ``hash``);
  ``feed_chains`` holds each chain's length and head (so a missing last entry shows);
* ``feed_cis``: configuration items as last published;
* ``feed_dead_letters``: every dead letter with its original bytes (replay);
* ``feed_audit``: every audit event (deliveries, supplier calls, people's actions).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

__all__ = [
    "audit",
    "chains",
    "cis",
    "dead_letters",
    "metadata",
    "ticket_gemeenten",
    "tickets",
    "timeline",
]

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Tz = DateTime(timezone=True)

tickets = Table(
    "feed_tickets",
    metadata,
    Column("hub_id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("supplier", String(64), nullable=False),
    Column("source", String(200), nullable=False),
    Column("number", String(100)),
    Column("title", String(400), nullable=False),
    Column("status", String(32), nullable=False),
    Column("open", Boolean, nullable=False),
    Column("priority", String(4)),
    Column("assignment_group", String(200)),
    Column("ci_name", String(400)),
    Column("version", BigInteger, nullable=False),
    Column("opened_at", Tz),
    Column("updated_at", Tz, nullable=False),
    Column("resolved_at", Tz),
    Column("closed_at", Tz),
    Column("planned_start", Tz),
    Column("planned_end", Tz),
    Column("resolve_seconds", BigInteger),
    Column("reopen_count", Integer, nullable=False),
    Column("handoffs", Integer, nullable=False),
    Column("routed_to", String(400), nullable=False),  # "GM0505 GM0482", display and search
    Column("triage", Boolean, nullable=False),
    Column("sla_state", String(16)),  # running, paused, at_risk, breached, met
    Column("sla_due_at", Tz),
    Column("sla_breached_at", Tz),
    Column("deliveries_ok", Integer, nullable=False),
    Column("deliveries_failed", Integer, nullable=False),
    Column("search", Text, nullable=False),  # lower-cased title, number, CI, group
    Column("sla_at", Tz),  # time of the SLA event the state comes from (latest wins)
    # the last normalised version's data: what the next version is compared with, and what
    # a manual route sends on; None for a row only routed or SLA events made so far
    Column("snapshot", JSON),
    Index("ix_feed_tickets_updated", "updated_at"),
    Index("ix_feed_tickets_supplier_open", "supplier", "open", "updated_at"),
    Index("ix_feed_tickets_open_sla", "open", "sla_state", "sla_due_at"),
    Index("ix_feed_tickets_status", "status", "updated_at"),
    Index("ix_feed_tickets_priority", "priority", "updated_at"),
    Index("ix_feed_tickets_triage", "triage", "updated_at"),
    Index("ix_feed_tickets_breached", "sla_breached_at"),
    # covers the key figures per supplier: an index scan instead of reading the wide rows
    Index(
        "ix_feed_tickets_figures",
        "supplier",
        "kind",
        "open",
        "sla_state",
        "reopen_count",
        "handoffs",
        "resolve_seconds",
    ),
)

ticket_gemeenten = Table(
    "feed_ticket_gemeenten",
    metadata,
    Column("hub_id", String(64), primary_key=True),
    Column("gemeente", String(16), primary_key=True),
    Column("team", String(64), primary_key=True),
    Column("updated_at", Tz, nullable=False),
    Index("ix_feed_ticket_gemeenten_gemeente", "gemeente", "updated_at", "hub_id"),
)

chains = Table(
    "feed_chains",
    metadata,
    Column("hub_id", String(64), primary_key=True),
    Column("entries", Integer, nullable=False),
    Column("head", String(64), nullable=False),  # hash of the last entry
)

timeline = Table(
    "feed_timeline",
    metadata,
    Column("entry_id", String(200), primary_key=True),
    Column("hub_id", String(64), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("at", Tz, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("summary", Text, nullable=False),
    Column("detail", JSON, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_feed_timeline_hub_seq", "hub_id", "seq", unique=True),
    Index("ix_feed_timeline_at", "at"),
)

cis = Table(
    "feed_cis",
    metadata,
    Column("hub_id", String(64), primary_key=True),
    Column("supplier", String(64), nullable=False),
    Column("name", String(400), nullable=False),
    Column("ci_class", String(200), nullable=False),
    Column("status", String(32), nullable=False),
    Column("gemeenten", String(400), nullable=False),
    Column("gemma_component", String(200)),
    Column("deleted", Boolean, nullable=False),
    Column("version", BigInteger, nullable=False),
    Column("updated_at", Tz, nullable=False),
)

dead_letters = Table(
    "feed_dead_letters",
    metadata,
    Column("partition", Integer, primary_key=True),
    Column("offset", BigInteger, primary_key=True),
    Column("source_topic", String(249), nullable=False),
    Column("source_partition", Integer),
    Column("source_offset", BigInteger),
    Column("service", String(64), nullable=False),
    Column("error_class", String(200), nullable=False),
    Column("reason", Text, nullable=False),
    Column("failed_at", Tz, nullable=False),
    Column("size", Integer, nullable=False),
    Column("key", LargeBinary),
    Column("value", LargeBinary, nullable=False),
    Column("headers", JSON, nullable=False),  # [[name, base64], ...] as consumed
    Column("replayed_at", Tz),
    Column("replayed_by", String(200)),
    Index("ix_feed_dead_letters_failed", "failed_at"),
)

audit = Table(
    "feed_audit",
    metadata,
    Column("event_id", String(200), primary_key=True),
    Column("at", Tz, nullable=False),
    Column("action", String(64), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("hub_id", String(64)),
    Column("summary", Text, nullable=False),
    Column("detail", JSON, nullable=False),
    Index("ix_feed_audit_at", "at"),
    Index("ix_feed_audit_actor", "actor", "at"),
)
