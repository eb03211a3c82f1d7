"""The router's table, declared on the hub's shared metadata.

``routing_decisions``: one row per normalised event and destination (a gemeente code, or
``triage``), the decision as that destination received it. The primary key makes storing
idempotent: a redelivered event routed again stores nothing new. ``route explain`` reads the
rows of one hub id in time order.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import JSON, BigInteger, Column, DateTime, Dialect, Index, String, Table, Text
from sqlalchemy.types import TypeDecorator

from services.store import metadata

__all__ = ["JsonDocument", "routing_decisions"]


class JsonDocument(TypeDecorator[Any]):
    """JSON; on SQLite written with orjson, and JSON the caller made already (``bytes``)
    written as it is. Other dialects: SQLAlchemy's JSON as usual (give them objects)."""

    impl = JSON
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> Any:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def process(value: Any) -> str | None:
            if value is None:
                return None
            if isinstance(value, bytes):
                return value.decode()
            return orjson.dumps(value).decode()

        return process


routing_decisions = Table(
    "routing_decisions",
    metadata,
    Column("event_id", String(64), primary_key=True),
    Column("gemeente", String(16), primary_key=True),  # CBS code, or "triage"
    Column("routed_event_id", String(64), nullable=False),
    Column("hub_id", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("version", BigInteger, nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=False),
    Column("rule_id", String(64)),
    Column("basis", String(16), nullable=False),
    Column("recipients", JsonDocument, nullable=False),
    Column("explanation", Text, nullable=False),
    Column("inputs", JsonDocument, nullable=False),
    Index("ix_routing_decisions_hub_id", "hub_id", "decided_at"),
)
