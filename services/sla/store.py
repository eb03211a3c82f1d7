"""The SLA store: ticket histories and the timer's index; recompute runs (versions).

SQLite by default, PostgreSQL in production (:func:`services.store.open_store`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from schemas.vocab import EntityKind
from services.sla._tables import sla_run_clocks, sla_runs, sla_tickets
from services.sla.clocks import Observation, TicketHistory
from services.store import open_store

__all__ = ["RunClock", "RunInfo", "SlaStore"]

_CHUNK = 400


def _utc(value: datetime | None) -> datetime | None:
    """SQLite gives naive datetimes back; everything stored here is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class RunInfo:
    run: int
    created_at: datetime
    since: datetime
    contracts: str
    digest: str
    tickets: int


@dataclass(frozen=True, slots=True)
class RunClock:
    """One clock's result in one recompute run."""

    hub_id: str
    clock: str
    supplier: str
    number: str | None
    priority: str
    opened_at: datetime
    state: str
    met: bool | None
    business_minutes: float
    paused_minutes: float
    target_minutes: int
    calendar: str


def _history(row: Any) -> TicketHistory:
    opened = _utc(row.opened_at)
    assert opened is not None
    return TicketHistory(
        hub_id=row.hub_id,
        entity=EntityKind(row.entity),
        supplier=row.supplier,
        number=row.number,
        opened_at=opened,
        observations=[Observation.from_json(o) for o in orjson.loads(row.history)],
    )


class SlaStore:
    """Async SQLAlchemy Core over :mod:`services.sla._tables`."""

    def __init__(self, engine: AsyncEngine) -> None:
        dialect = engine.dialect.name
        if dialect not in ("sqlite", "postgresql"):
            raise ValueError(f"the SLA store supports SQLite and PostgreSQL, not {dialect}")
        self.engine = engine
        self._insert = sqlite.insert if dialect == "sqlite" else postgresql.insert
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, url: str) -> SlaStore:
        return cls(await open_store(url))

    async def close(self) -> None:
        await self.engine.dispose()

    # -- ticket histories ------------------------------------------------------------------

    async def load(self, hub_ids: Collection[str]) -> dict[str, TicketHistory]:
        found: dict[str, TicketHistory] = {}
        ids = list(hub_ids)
        async with self.engine.connect() as conn:
            for start in range(0, len(ids), _CHUNK):
                rows = await conn.execute(
                    select(sla_tickets).where(sla_tickets.c.hub_id.in_(ids[start : start + _CHUNK]))
                )
                for row in rows:
                    found[row.hub_id] = _history(row)
        return found

    async def save(self, tickets: Sequence[tuple[TicketHistory, datetime | None]]) -> None:
        """Write histories with their next due moment (None: nothing more falls due)."""
        if not tickets:
            return
        insert = self._insert(sla_tickets)
        statement = insert.on_conflict_do_update(
            index_elements=[sla_tickets.c.hub_id],
            set_={
                name: getattr(insert.excluded, name)
                for name in ("number", "opened_at", "last_at", "history", "next_due_at")
            },
        )
        rows = [
            {
                "hub_id": h.hub_id,
                "entity": h.entity.value,
                "supplier": h.supplier,
                "number": h.number,
                "opened_at": h.opened_at,
                "last_at": h.last_at,
                "history": orjson.dumps([o.to_json() for o in h.observations]).decode(),
                "next_due_at": due,
            }
            for h, due in tickets
        ]
        async with self._lock, self.engine.begin() as conn:
            for start in range(0, len(rows), _CHUNK):
                await conn.execute(statement, rows[start : start + _CHUNK])

    async def due(self, now: datetime, *, limit: int = 1000) -> list[str]:
        """Hub ids whose next warning or breach is at or before ``now``."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(sla_tickets.c.hub_id)
                .where(sla_tickets.c.next_due_at <= now)
                .order_by(sla_tickets.c.next_due_at)
                .limit(limit)
            )
            return [row.hub_id for row in rows]

    async def histories(
        self, *, since: datetime | None = None, until: datetime | None = None, batch: int = 5000
    ) -> AsyncIterator[list[TicketHistory]]:
        """Every ticket opened in [since, until), in batches, oldest first."""
        query = select(sla_tickets).order_by(sla_tickets.c.opened_at, sla_tickets.c.hub_id)
        if since is not None:
            query = query.where(sla_tickets.c.opened_at >= since)
        if until is not None:
            query = query.where(sla_tickets.c.opened_at < until)
        async with self.engine.connect() as conn:
            result = await conn.stream(query.execution_options(yield_per=batch))
            async for part in result.partitions(batch):
                yield [_history(row) for row in part]

    async def count(self, *, since: datetime | None = None) -> int:
        """How many tickets were opened since ``since``."""
        query = select(func.count()).select_from(sla_tickets)
        if since is not None:
            query = query.where(sla_tickets.c.opened_at >= since)
        async with self.engine.connect() as conn:
            return int((await conn.execute(query)).scalar() or 0)

    async def newest_event(self) -> datetime | None:
        """The time of the newest ticket event the store holds (the stream's own 'now')."""
        async with self.engine.connect() as conn:
            value = (await conn.execute(select(func.max(sla_tickets.c.last_at)))).scalar()
        return _utc(value)

    # -- recompute runs --------------------------------------------------------------------

    async def add_run(
        self, *, since: datetime, contracts: str, digest: str, clocks: Sequence[RunClock]
    ) -> int:
        """A new run (version) with its clocks; earlier runs are left as they are."""
        tickets = len({c.hub_id for c in clocks})
        async with self._lock, self.engine.begin() as conn:
            result = await conn.execute(
                sla_runs.insert().values(
                    created_at=datetime.now(UTC),
                    since=since,
                    contracts=contracts,
                    digest=digest,
                    tickets=tickets,
                )
            )
            run = result.inserted_primary_key[0] if result.inserted_primary_key else None
            assert run is not None
            rows = [_run_row(run, c) for c in clocks]
            for start in range(0, len(rows), 2000):
                await conn.execute(sla_run_clocks.insert(), rows[start : start + 2000])
        return int(run)

    async def runs(self) -> list[RunInfo]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(sla_runs).order_by(sla_runs.c.run))
            return [
                RunInfo(
                    r.run,
                    _utc(r.created_at) or r.created_at,
                    _utc(r.since) or r.since,
                    r.contracts,
                    r.digest,
                    r.tickets,
                )
                for r in rows
            ]

    async def run_clocks(self, run: int) -> list[RunClock]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(sla_run_clocks).where(sla_run_clocks.c.run == run))
            return [
                RunClock(
                    r.hub_id,
                    r.clock,
                    r.supplier,
                    r.number,
                    r.priority,
                    _utc(r.opened_at) or r.opened_at,
                    r.state,
                    r.met,
                    r.business_minutes,
                    r.paused_minutes,
                    r.target_minutes,
                    r.calendar,
                )
                for r in rows
            ]


def _run_row(run: int, clock: RunClock) -> dict[str, object]:
    return {
        "run": run,
        "hub_id": clock.hub_id,
        "clock": clock.clock,
        "supplier": clock.supplier,
        "number": clock.number,
        "priority": clock.priority,
        "opened_at": clock.opened_at,
        "state": clock.state,
        "met": clock.met,
        "business_minutes": clock.business_minutes,
        "paused_minutes": clock.paused_minutes,
        "target_minutes": clock.target_minutes,
        "calendar": clock.calendar,
    }
