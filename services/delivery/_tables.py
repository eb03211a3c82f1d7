"""The delivery service's tables, declared on the hub's shared metadata.

``deliveries``: one row per idempotency key (routed event x team x channel): whether it was
delivered, where it landed and how many attempts it took. A key with status ``delivered``
is never delivered again (idempotent consumer), so a replayed dead letter only retries the
channels that failed.

The receivers' own references of a ticket (``receiver_tickets``) are the tickets' shared
state: :mod:`services.tickets.tables` declares them; the delivery service writes them.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, String, Table, Text

from services.store import metadata

__all__ = ["deliveries"]

deliveries = Table(
    "deliveries",
    metadata,
    Column("idempotency_key", String(64), primary_key=True),
    Column("hub_id", String(64), nullable=False),
    Column("gemeente", String(8), nullable=False),
    Column("team", String(64), nullable=False),
    Column("channel", String(64), nullable=False),
    Column("event_id", String(64), nullable=False),
    Column("version", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("receiver_ref", String(255)),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("delivered_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_deliveries_hub_id", "hub_id"),
)
