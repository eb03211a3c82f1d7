"""Storing routing decisions: one batch insert per consumed batch, idempotent.

:class:`SqlDecisionLog` writes to the hub's store (SQLite or PostgreSQL) with
``INSERT ... ON CONFLICT DO NOTHING`` on (event id, destination), so a redelivered batch
stores nothing twice and the first decision for an event stays the one on record.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from services.router._tables import routing_decisions
from services.router.pipeline import DecisionRecord
from services.store import open_store

__all__ = ["DecisionLog", "SqlDecisionLog", "decision_rows"]


class DecisionLog(Protocol):
    """Where decisions go; ``save`` returns once they are durably stored (or raises)."""

    async def save(self, records: Sequence[DecisionRecord]) -> None: ...

    async def close(self) -> None: ...


def decision_rows(
    records: Sequence[DecisionRecord], *, encoded: bool = False
) -> list[dict[str, Any]]:
    """The table rows of ``records``; ``encoded``: JSON columns as the JSON the router made
    once per plan (for :class:`~services.router._tables.JsonDocument` on SQLite)."""
    rows = []
    for record in records:
        decision = record.template
        if encoded and record.recipients_json and record.inputs_json:
            recipients: Any = record.recipients_json
            inputs: Any = record.inputs_json
        else:
            recipients = [r.model_dump(mode="json") for r in decision.recipients]
            inputs = decision.inputs
        rows.append(
            {
                "event_id": record.event_id,
                "gemeente": record.destination,
                "routed_event_id": record.routed_event_id,
                "hub_id": record.hub_id,
                "kind": record.kind.value,
                "version": record.version,
                "decided_at": record.decided_at,
                "rule_id": decision.rule_id,
                "basis": decision.basis,
                "recipients": recipients,
                "explanation": decision.explanation,
                "inputs": inputs,
            }
        )
    return rows


class SqlDecisionLog:
    """Decisions in the ``routing_decisions`` table; the engine opens on first use."""

    def __init__(self, url: str | None = None, *, engine: AsyncEngine | None = None) -> None:
        if url is None and engine is None:
            raise ValueError("give the store url or an engine")
        self._url = url
        self._engine = engine
        self._owned = engine is None

    async def engine(self) -> AsyncEngine:
        if self._engine is None:
            assert self._url is not None
            self._engine = await open_store(self._url)
        return self._engine

    async def save(self, records: Sequence[DecisionRecord]) -> None:
        if not records:
            return
        engine = await self.engine()
        dialect = engine.dialect.name
        if dialect == "sqlite":
            statement: Any = sqlite.insert(routing_decisions).on_conflict_do_nothing()
        elif dialect == "postgresql":
            statement = postgresql.insert(routing_decisions).on_conflict_do_nothing()
        else:
            raise RuntimeError(f"the router's store supports SQLite and PostgreSQL, not {dialect}")
        rows = decision_rows(records, encoded=dialect == "sqlite")
        async with engine.begin() as conn:
            await conn.execute(statement, rows)

    async def close(self) -> None:
        if self._engine is not None and self._owned:
            await self._engine.dispose()
            self._engine = None
