"""The tickets' shared state, declared on the hub's shared metadata.

Written by the service that learns it, read by the others through
:class:`~services.tickets.store.CorrelationStore` (nothing else reads these tables by name):

``correlations``: per hub id, where the ticket lives at the supplier (supplier, system,
record id, number, the partner reference the supplier stored) and its last known state
(status, priority, version). Filled from the normalised ticket topics and the routed events
by the sync service's correlation feed; a newer version replaces an older one, never the
other way round.

``correlation_routes``: per hub id, the (gemeente, team) pairs the ticket was routed to, from
the routed events on ``schakel.gemeente.<GMxxxx>.v1``. This is what lets a team act on a
ticket: a team may reply only on hub ids routed to it.

``replies_applied``: per reply id (the idempotency key), what became of the reply: applied
(the supplier's API took every step), published (on ``schakel.outbound.<supplier>`` only, the
supplier has no API configured), failed or refused (dead-lettered; a replay retries it).
``steps_done`` lets a retried reply continue after the steps that already succeeded.
Written by the sync service; the replies API shows them.

``receiver_tickets``: per ticket (hub id) and receiver (gemeente, team, channel) the
receiver's own reference: the TOPdesk incident id, the Message-ID of the first e-mail. A later
update of the ticket goes to that reference (PATCH, In-Reply-To) instead of creating a new
one. ``last_version`` is the newest ticket version delivered there; an older one is skipped.
Written by the delivery service (with its deliveries, in one transaction); the replies API
shows a team its own references.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, String, Table, Text

from services.store import metadata

__all__ = ["correlation_routes", "correlations", "receiver_tickets", "replies_applied"]

correlations = Table(
    "correlations",
    metadata,
    Column("hub_id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("supplier", String(64), nullable=False),
    Column("system", String(16), nullable=False),
    Column("record_id", String(255), nullable=False),
    Column("number", String(100)),
    Column("supplier_correlation_id", String(255)),
    Column("status", String(32), nullable=False),
    Column("priority", String(4)),
    Column("title", String(400)),
    Column("version", BigInteger, nullable=False),
    Column("ticket_updated_at", DateTime(timezone=True)),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Index("ix_correlations_supplier_record", "supplier", "record_id"),
)

correlation_routes = Table(
    "correlation_routes",
    metadata,
    Column("hub_id", String(64), primary_key=True),
    Column("gemeente", String(8), primary_key=True),
    Column("team", String(64), primary_key=True),
    Column("first_routed_at", DateTime(timezone=True), nullable=False),
    Column("last_routed_at", DateTime(timezone=True), nullable=False),
    Column("last_event_id", String(64), nullable=False),
)

replies_applied = Table(
    "replies_applied",
    metadata,
    Column("reply_id", String(64), primary_key=True),
    Column("hub_id", String(64), nullable=False),
    Column("gemeente", String(8), nullable=False),
    Column("team", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    Column("supplier", String(64)),
    Column("digest", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("steps_done", Integer, nullable=False, default=0),
    Column("steps_total", Integer, nullable=False, default=0),
    Column("attempts", Integer, nullable=False, default=0),
    Column("error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("applied_at", DateTime(timezone=True)),
    Index("ix_replies_applied_hub_id", "hub_id", "created_at"),
)

receiver_tickets = Table(
    "receiver_tickets",
    metadata,
    Column("hub_id", String(64), primary_key=True),
    Column("gemeente", String(8), primary_key=True),
    Column("team", String(64), primary_key=True),
    Column("channel", String(64), primary_key=True),
    Column("receiver_ref", String(255)),
    Column("receiver_number", String(100)),
    Column("last_version", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
