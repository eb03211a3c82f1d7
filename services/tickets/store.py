"""The correlation store: hub id <-> supplier reference <-> receivers, and applied replies.

SQLite by default, PostgreSQL in production (``services.store.open_store``); everything here
can be rebuilt by replaying the normalised and gemeente topics, except the ``replies_applied``
bookkeeping, whose loss only means a replayed reply is sent again.

Receiver references (the FB's own ticket ids: a TOPdesk incident at the gemeente, the first
Message-ID of a mail thread) are written by the delivery service into ``receiver_tickets``
(:mod:`services.tickets.tables`) and read here; when the delivery service keeps its tables
in another store, there are none to read.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Sequence
from contextlib import asynccontextmanager, nullcontext
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.store import open_store
from services.tickets.tables import (
    correlation_routes,
    correlations,
    receiver_tickets,
    replies_applied,
)

__all__ = [
    "FINAL_STATES",
    "Correlation",
    "CorrelationStore",
    "ReceiverRef",
    "ReplyRecord",
    "Route",
]

#: Reply states that are never applied again (idempotent consumer).
FINAL_STATES = frozenset({"applied", "published"})

_CHUNK = 400
_ERROR_MAX = 2000


@dataclass(frozen=True, slots=True)
class Correlation:
    """Where a ticket lives at the supplier, and its last known state."""

    hub_id: str
    kind: str
    supplier: str
    system: str
    record_id: str
    number: str | None
    supplier_correlation_id: str | None
    status: str
    priority: str | None
    title: str | None
    version: int
    ticket_updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Route:
    """A ticket routed to one team of one gemeente (by the routed event ``event_id``)."""

    hub_id: str
    gemeente: str
    team: str
    event_id: str
    routed_at: datetime


@dataclass(frozen=True, slots=True)
class ReceiverRef:
    gemeente: str
    team: str
    channel: str
    receiver_ref: str | None
    receiver_number: str | None


@dataclass(frozen=True, slots=True)
class ReplyRecord:
    """What became of one reply (``replies_applied``)."""

    reply_id: str
    hub_id: str
    gemeente: str
    team: str
    action: str
    digest: str
    status: str
    supplier: str | None = None
    steps_done: int = 0
    steps_total: int = 0
    attempts: int = 0
    error: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    applied_at: datetime | None = None

    @property
    def final(self) -> bool:
        return self.status in FINAL_STATES


def _utc(value: datetime | None) -> datetime | None:
    """SQLite gives naive datetimes back; everything stored here is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def newest(tickets: Iterable[Correlation]) -> list[Correlation]:
    """One correlation per hub id, the highest version (a batch may hold several)."""
    best: dict[str, Correlation] = {}
    for ticket in tickets:
        known = best.get(ticket.hub_id)
        if known is None or ticket.version >= known.version:
            best[ticket.hub_id] = ticket
    return list(best.values())


class CorrelationStore:
    """Async SQLAlchemy Core over :mod:`services.tickets.tables`.

    Built on an open engine, or on a URL that is opened (tables created) on first use, so
    a service can be wired before the event loop runs.
    """

    def __init__(self, engine: AsyncEngine | None = None, *, url: str | None = None) -> None:
        if (engine is None) == (url is None):
            raise ValueError("give the store an engine or a url, not both")
        self._url = url
        self._engine = engine
        self._open_lock = asyncio.Lock()
        self._write_lock: asyncio.Lock | None = None
        self._insert: Callable[..., Any] = sqlite.insert
        if engine is not None:
            self._adopt(engine)

    @classmethod
    async def open(cls, url: str) -> CorrelationStore:
        """Open the store at ``url`` now, creating the tables if needed."""
        return cls(await open_store(url))

    def _adopt(self, engine: AsyncEngine) -> None:
        dialect = engine.dialect.name
        if dialect not in ("sqlite", "postgresql"):
            raise ValueError(f"the correlation store supports SQLite and PostgreSQL, not {dialect}")
        self._engine = engine
        self._insert = sqlite.insert if dialect == "sqlite" else postgresql.insert
        # SQLite has one writer at a time; queueing here beats busy-waiting in the driver.
        self._write_lock = asyncio.Lock() if dialect == "sqlite" else None

    async def engine(self) -> AsyncEngine:
        """The engine, opened on first use."""
        if self._engine is None:
            async with self._open_lock:
                if self._engine is None:
                    assert self._url is not None
                    self._adopt(await open_store(self._url))
        assert self._engine is not None
        return self._engine

    async def close(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
            if self._url is not None:
                self._engine = None

    # -- writing what the topics say ------------------------------------------------------

    async def record(
        self,
        tickets: Sequence[Correlation],
        routes: Sequence[Route],
        *,
        now: datetime | None = None,
    ) -> None:
        """Store correlations (a newer version wins) and routes (first and last routing)."""
        if not tickets and not routes:
            return
        now = now or datetime.now(UTC)
        async with self._writing() as conn:
            for chunk in _chunks(newest(tickets)):
                await self._upsert_tickets(conn, chunk, now)
            unique = {(r.hub_id, r.gemeente, r.team): r for r in routes}
            for chunk in _chunks(list(unique.values())):
                await self._upsert_routes(conn, chunk)

    async def _upsert_tickets(
        self, conn: AsyncConnection, tickets: Sequence[Correlation], now: datetime
    ) -> None:
        insert = self._insert(correlations)
        c = correlations.c
        ex = insert.excluded
        statement = insert.on_conflict_do_update(
            index_elements=[c.hub_id],
            set_={
                name: getattr(ex, name)
                for name in (
                    "kind",
                    "supplier",
                    "system",
                    "record_id",
                    "number",
                    "supplier_correlation_id",
                    "status",
                    "priority",
                    "title",
                    "version",
                    "ticket_updated_at",
                    "recorded_at",
                )
            },
            where=c.version < ex.version,
        )
        rows = [
            {
                "hub_id": t.hub_id,
                "kind": t.kind,
                "supplier": t.supplier,
                "system": t.system,
                "record_id": t.record_id,
                "number": t.number,
                "supplier_correlation_id": t.supplier_correlation_id,
                "status": t.status,
                "priority": t.priority,
                "title": t.title,
                "version": t.version,
                "ticket_updated_at": t.ticket_updated_at,
                "recorded_at": now,
            }
            for t in tickets
        ]
        await conn.execute(statement, rows)

    async def _upsert_routes(self, conn: AsyncConnection, routes: Sequence[Route]) -> None:
        insert = self._insert(correlation_routes)
        r = correlation_routes.c
        ex = insert.excluded
        statement = insert.on_conflict_do_update(
            index_elements=[r.hub_id, r.gemeente, r.team],
            set_={"last_routed_at": ex.last_routed_at, "last_event_id": ex.last_event_id},
            where=r.last_routed_at < ex.last_routed_at,
        )
        rows = [
            {
                "hub_id": route.hub_id,
                "gemeente": route.gemeente,
                "team": route.team,
                "first_routed_at": route.routed_at,
                "last_routed_at": route.routed_at,
                "last_event_id": route.event_id,
            }
            for route in routes
        ]
        await conn.execute(statement, rows)

    async def expect(
        self, hub_id: str, *, status: str | None = None, priority: str | None = None
    ) -> None:
        """What Schakel itself just wrote at the supplier (reopened, closed, a raised
        priority): its echo produces no event, so the store is told here. The version stays,
        so the supplier's next change replaces it."""
        values: dict[str, Any] = {}
        if status is not None:
            values["status"] = status
        if priority is not None:
            values["priority"] = priority
        if not values:
            return
        async with self._writing() as conn:
            await conn.execute(
                correlations.update().where(correlations.c.hub_id == hub_id).values(**values)
            )

    # -- reading ---------------------------------------------------------------------------

    async def correlations(self, hub_ids: Collection[str]) -> dict[str, Correlation]:
        found: dict[str, Correlation] = {}
        c = correlations.c
        async with (await self.engine()).connect() as conn:
            for chunk in _chunks(sorted(set(hub_ids))):
                rows = await conn.execute(select(correlations).where(c.hub_id.in_(chunk)))
                for row in rows.mappings():
                    found[row["hub_id"]] = Correlation(
                        hub_id=row["hub_id"],
                        kind=row["kind"],
                        supplier=row["supplier"],
                        system=row["system"],
                        record_id=row["record_id"],
                        number=row["number"],
                        supplier_correlation_id=row["supplier_correlation_id"],
                        status=row["status"],
                        priority=row["priority"],
                        title=row["title"],
                        version=row["version"],
                        ticket_updated_at=_utc(row["ticket_updated_at"]),
                    )
        return found

    async def correlation(self, hub_id: str) -> Correlation | None:
        return (await self.correlations([hub_id])).get(hub_id)

    async def by_supplier_ref(self, supplier: str, record_id: str) -> Correlation | None:
        """The correlation of a supplier record (the supplier -> hub direction)."""
        c = correlations.c
        async with (await self.engine()).connect() as conn:
            row = (
                await conn.execute(
                    select(c.hub_id).where(c.supplier == supplier, c.record_id == record_id)
                )
            ).first()
        return await self.correlation(row[0]) if row else None

    async def routes(self, hub_ids: Collection[str]) -> dict[str, set[tuple[str, str]]]:
        """Per hub id, the (gemeente, team) pairs it was routed to."""
        found: dict[str, set[tuple[str, str]]] = {}
        r = correlation_routes.c
        async with (await self.engine()).connect() as conn:
            for chunk in _chunks(sorted(set(hub_ids))):
                rows = await conn.execute(
                    select(r.hub_id, r.gemeente, r.team).where(r.hub_id.in_(chunk))
                )
                for hub, gemeente, team in rows:
                    found.setdefault(hub, set()).add((gemeente, team))
        return found

    async def is_routed(self, hub_id: str, gemeente: str, team: str) -> bool:
        return (gemeente, team) in (await self.routes([hub_id])).get(hub_id, set())

    async def receiver_refs(self, hub_id: str, gemeente: str, team: str) -> list[ReceiverRef]:
        """The team's own references of the ticket, as the delivery service recorded them;
        empty when the delivery service keeps its tables elsewhere."""
        t = receiver_tickets.c
        query = select(t.channel, t.receiver_ref, t.receiver_number).where(
            tuple_(t.hub_id, t.gemeente, t.team) == tuple_(hub_id, gemeente, team)
        )
        engine = await self.engine()
        try:
            async with engine.connect() as conn:
                rows = (await conn.execute(query)).all()
        except DBAPIError:  # no such table in this store
            return []
        return [ReceiverRef(gemeente, team, row[0], row[1], row[2]) for row in rows]

    # -- replies ---------------------------------------------------------------------------

    async def replies(self, reply_ids: Collection[str]) -> dict[str, ReplyRecord]:
        found: dict[str, ReplyRecord] = {}
        async with (await self.engine()).connect() as conn:
            for chunk in _chunks(sorted(set(reply_ids))):
                rows = await conn.execute(
                    select(replies_applied).where(replies_applied.c.reply_id.in_(chunk))
                )
                for row in rows.mappings():
                    found[row["reply_id"]] = _reply_of(row)
        return found

    async def replies_of(self, hub_id: str, gemeente: str, team: str) -> list[ReplyRecord]:
        """The replies of one team on one ticket, oldest first."""
        a = replies_applied.c
        async with (await self.engine()).connect() as conn:
            rows = await conn.execute(
                select(replies_applied)
                .where(a.hub_id == hub_id, a.gemeente == gemeente, a.team == team)
                .order_by(a.created_at, a.reply_id)
            )
            return [_reply_of(row) for row in rows.mappings()]

    async def save_reply(self, record: ReplyRecord, *, now: datetime | None = None) -> None:
        """Insert or update a reply's outcome; an applied reply stays applied."""
        now = now or datetime.now(UTC)
        stored = replace(
            record,
            error=record.error[:_ERROR_MAX] if record.error else None,
            created_at=record.created_at or now,
            updated_at=now,
        )
        insert = self._insert(replies_applied).values(
            reply_id=stored.reply_id,
            hub_id=stored.hub_id,
            gemeente=stored.gemeente,
            team=stored.team,
            action=stored.action,
            supplier=stored.supplier,
            digest=stored.digest,
            status=stored.status,
            steps_done=stored.steps_done,
            steps_total=stored.steps_total,
            attempts=stored.attempts,
            error=stored.error,
            created_at=stored.created_at,
            updated_at=stored.updated_at,
            applied_at=stored.applied_at,
        )
        a = replies_applied.c
        ex = insert.excluded
        statement = insert.on_conflict_do_update(
            index_elements=[a.reply_id],
            set_={
                "supplier": ex.supplier,
                "status": ex.status,
                "steps_done": ex.steps_done,
                "steps_total": ex.steps_total,
                "attempts": ex.attempts,
                "error": ex.error,
                "updated_at": ex.updated_at,
                "applied_at": ex.applied_at,
            },
            where=a.status.not_in(sorted(FINAL_STATES)),
        )
        async with self._writing() as conn:
            await conn.execute(statement)

    @asynccontextmanager
    async def _writing(self) -> AsyncIterator[AsyncConnection]:
        """One transaction; serialised on SQLite (one writer at a time)."""
        engine = await self.engine()
        async with self._write_lock or nullcontext(), engine.begin() as conn:
            yield conn


def _reply_of(row: Any) -> ReplyRecord:
    return ReplyRecord(
        reply_id=row["reply_id"],
        hub_id=row["hub_id"],
        gemeente=row["gemeente"],
        team=row["team"],
        action=row["action"],
        digest=row["digest"],
        status=row["status"],
        supplier=row["supplier"],
        steps_done=row["steps_done"],
        steps_total=row["steps_total"],
        attempts=row["attempts"],
        error=row["error"],
        created_at=_utc(row["created_at"]),
        updated_at=_utc(row["updated_at"]),
        applied_at=_utc(row["applied_at"]),
    )
