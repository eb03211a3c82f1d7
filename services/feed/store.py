"""The read model in the store: migrations, the batch writer, and the queries of the cockpit.

SQLite by default (``sqlite+aiosqlite:///schakel.db``), PostgreSQL in production
(``postgresql+psycopg://...``); the schema is the Alembic head of ``services/feed/migrations``,
brought up to date by :meth:`ReadModel.open`.

One consumed batch is one transaction (:meth:`ReadModel.apply`): the rows of the tickets and
chains it touches are read, the facts are projected in memory
(:class:`~services.feed.projector.Projection`), and every row is written with bulk
statements. One projector writes a read model (its consumer group may have one member per
read model; the rows of a ticket are read and written in one transaction).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    case,
    delete,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.feed._tables import (
    audit,
    chains,
    cis,
    dead_letters,
    ticket_gemeenten,
    tickets,
    timeline,
)
from services.feed.chain import ChainProblem, verify_chain
from services.feed.errors import UnreadableOutcome
from services.feed.projector import Fact, Projection, decode
from services.messaging import RawRecord
from services.store import open_store

__all__ = [
    "MIGRATIONS",
    "ApplyResult",
    "ReadModel",
    "Scope",
    "TicketQuery",
    "migrate",
]

MIGRATIONS = Path(__file__).parent / "migrations"
_CHUNK = 900  # bound parameters per IN (...) (SQLite's limit is far above)


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose view: the regie (``gemeente`` None) or one gemeente's FB team(s)."""

    gemeente: str | None = None

    @property
    def is_regie(self) -> bool:
        return self.gemeente is None


REGIE = Scope()


@dataclass(frozen=True, slots=True)
class TicketQuery:
    """Filters of the ticket list (every one optional) and the page wanted."""

    supplier: str | None = None
    gemeente: str | None = None
    status: str | None = None
    priority: str | None = None
    sla: str | None = None  # running, paused, at_risk, breached, met, none
    text: str | None = None
    updated_since: datetime | None = None
    kind: str | None = None
    open: bool | None = None
    triage: bool | None = None
    limit: int = 50
    offset: int = 0


@dataclass(slots=True)
class ApplyResult:
    facts: int = 0
    duplicates: int = 0
    unreadable: list[tuple[RawRecord, UnreadableOutcome]] = field(default_factory=list)
    touched: set[str] = field(default_factory=set)


def _upgrade(connection: Connection) -> None:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def migrate(engine: AsyncEngine) -> None:
    """Bring the read model's schema to the Alembic head (idempotent)."""
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade)


def _json_text(value: Any) -> str:
    return orjson.dumps(value, default=str).decode()


def _aware(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _row(mapping: Any) -> dict[str, Any]:
    return {str(k): _aware(v) for k, v in mapping.items()}


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class ReadModel:
    """The cockpit's read model on one engine."""

    def __init__(self, engine: AsyncEngine, *, owned: bool = False) -> None:
        self.engine = engine
        self._owned = owned
        self._dialect = engine.dialect.name
        if self._dialect not in ("sqlite", "postgresql"):
            raise RuntimeError(
                f"the read model supports SQLite and PostgreSQL, not {self._dialect}"
            )

    @classmethod
    async def open(cls, url: str) -> ReadModel:
        """The read model at ``url``, migrated to the head."""
        engine = await open_store(
            url, create=False, json_serializer=_json_text, json_deserializer=orjson.loads
        )
        await migrate(engine)
        return cls(engine, owned=True)

    async def close(self) -> None:
        if self._owned:
            await self.engine.dispose()

    def _insert(self, table: Any) -> Any:
        return (sqlite.insert if self._dialect == "sqlite" else postgresql.insert)(table)

    # -- writing --------------------------------------------------------------------------

    async def apply(
        self, records: Sequence[RawRecord], *, now: datetime | None = None
    ) -> ApplyResult:
        """Project one consumed batch in one transaction; unreadable records are returned
        (for the dead letter), not projected."""
        now = now or datetime.now(UTC)
        result = ApplyResult()
        facts: list[Fact] = []
        for record in records:
            try:
                facts.append(decode(record, now=now))
            except UnreadableOutcome as error:
                result.unreadable.append((record, error))
        result.facts = len(facts)
        if facts:
            async with self.engine.begin() as conn:
                projection = await self._load(conn, facts)
                projection.apply_all(facts)
                await self._write(conn, projection)
            result.duplicates = projection.duplicates
            result.touched = projection.touched
        return result

    async def _load(self, conn: AsyncConnection, facts: Sequence[Fact]) -> Projection:
        hubs = sorted({f.hub_id for f in facts if f.hub_id})
        ids = sorted({f.entry_id for f in facts if f.hub_id})
        found: dict[str, dict[str, Any]] = {}
        heads: dict[str, tuple[int, str]] = {}
        known: set[str] = set()
        for part in _chunks(hubs):
            for row in (
                await conn.execute(select(tickets).where(tickets.c.hub_id.in_(part)))
            ).mappings():
                found[row["hub_id"]] = _row(row)
            for hub, entries, head in await conn.execute(
                select(chains.c.hub_id, chains.c.entries, chains.c.head).where(
                    chains.c.hub_id.in_(part)
                )
            ):
                heads[hub] = (entries, head)
        for part in _chunks(ids):
            known.update(
                (
                    await conn.execute(
                        select(timeline.c.entry_id).where(timeline.c.entry_id.in_(part))
                    )
                ).scalars()
            )
        return Projection(found, heads, known)

    async def _write(self, conn: AsyncConnection, p: Projection) -> None:
        if p.entries:
            await conn.execute(timeline.insert(), p.entries)
        if p.chained:
            stmt = self._insert(chains)
            stmt = stmt.on_conflict_do_update(
                index_elements=[chains.c.hub_id],
                set_={"entries": stmt.excluded.entries, "head": stmt.excluded.head},
            )
            rows = [
                {"hub_id": h, "entries": p.chains[h][0], "head": p.chains[h][1]} for h in p.chained
            ]
            await conn.execute(stmt, rows)
        if p.touched:
            stmt = self._insert(tickets)
            columns = [c.name for c in tickets.columns if c.name != "hub_id"]
            stmt = stmt.on_conflict_do_update(
                index_elements=[tickets.c.hub_id],
                set_={name: stmt.excluded[name] for name in columns},
            )
            await conn.execute(stmt, [p.tickets[h] for h in sorted(p.touched)])
        if p.gemeenten:
            stmt = self._insert(ticket_gemeenten).on_conflict_do_nothing()
            rows = [
                {"hub_id": h, "gemeente": g, "team": t, "updated_at": at}
                for (h, g, t), at in p.gemeenten.items()
            ]
            await conn.execute(stmt, rows)
        if p.cis:
            stmt = self._insert(cis)
            columns = [c.name for c in cis.columns if c.name != "hub_id"]
            stmt = stmt.on_conflict_do_update(
                index_elements=[cis.c.hub_id],
                set_={name: stmt.excluded[name] for name in columns},
                where=cis.c.version <= stmt.excluded.version,
            )
            await conn.execute(stmt, list(p.cis.values()))
        if p.dead_letters:
            await conn.execute(self._insert(dead_letters).on_conflict_do_nothing(), p.dead_letters)
        if p.audit:
            await conn.execute(self._insert(audit).on_conflict_do_nothing(), p.audit)

    # -- tickets ---------------------------------------------------------------------------

    @staticmethod
    def _scoped(query: Select[Any], scope: Scope) -> Select[Any]:
        if scope.gemeente is None:
            return query
        return query.where(
            exists().where(
                ticket_gemeenten.c.hub_id == tickets.c.hub_id,
                ticket_gemeenten.c.gemeente == scope.gemeente,
            )
        )

    async def tickets(
        self, q: TicketQuery, scope: Scope = REGIE
    ) -> tuple[list[dict[str, Any]], bool]:
        """One page of tickets, newest update first, and whether there are more."""
        columns = [c for c in tickets.c if c.name not in ("snapshot", "search")]
        query = self._scoped(select(*columns), scope).where(tickets.c.kind != "unknown")
        conditions: list[ColumnElement[bool]] = []
        if q.supplier:
            conditions.append(tickets.c.supplier == q.supplier)
        if q.gemeente:
            conditions.append(
                exists().where(
                    ticket_gemeenten.c.hub_id == tickets.c.hub_id,
                    ticket_gemeenten.c.gemeente == q.gemeente,
                )
            )
        if q.status:
            conditions.append(tickets.c.status == q.status)
        if q.priority:
            conditions.append(tickets.c.priority == q.priority)
        if q.sla == "none":
            conditions.append(tickets.c.sla_state.is_(None))
        elif q.sla:
            conditions.append(tickets.c.sla_state == q.sla)
        if q.text:
            needle = (
                q.text.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            )
            conditions.append(
                or_(
                    tickets.c.search.like(f"%{needle}%", escape="\\"),
                    tickets.c.hub_id == q.text.strip(),
                )
            )
        if q.updated_since:
            conditions.append(tickets.c.updated_at >= q.updated_since)
        if q.kind:
            conditions.append(tickets.c.kind == q.kind)
        if q.open is not None:
            conditions.append(tickets.c.open.is_(q.open))
        if q.triage is not None:
            conditions.append(tickets.c.triage.is_(q.triage))
        if conditions:
            query = query.where(and_(*conditions))
        query = (
            query.order_by(tickets.c.updated_at.desc(), tickets.c.hub_id)
            .limit(q.limit + 1)
            .offset(q.offset)
        )
        async with self.engine.connect() as conn:
            rows = [_row(r) for r in (await conn.execute(query)).mappings()]
        return rows[: q.limit], len(rows) > q.limit

    async def ticket(self, hub_id: str, scope: Scope = REGIE) -> dict[str, Any] | None:
        query = self._scoped(select(tickets).where(tickets.c.hub_id == hub_id), scope)
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
            if row is None:
                return None
            found = _row(row)
            teams = await conn.execute(
                select(ticket_gemeenten.c.gemeente, ticket_gemeenten.c.team)
                .where(ticket_gemeenten.c.hub_id == hub_id)
                .order_by(ticket_gemeenten.c.gemeente, ticket_gemeenten.c.team)
            )
            found["teams"] = [f"{g}/{t}" for g, t in teams]
        return found

    async def timeline(self, hub_id: str) -> list[dict[str, Any]]:
        """Every entry of a ticket's trail, in chain order (scope checked by the caller)."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(timeline).where(timeline.c.hub_id == hub_id).order_by(timeline.c.seq)
            )
            return [_row(r) for r in rows.mappings()]

    async def at_risk(self, scope: Scope = REGIE, *, limit: int = 20) -> list[dict[str, Any]]:
        """Open tickets whose SLA is at risk (or running with a due time), least time left first."""
        query = (
            self._scoped(
                select(
                    tickets.c.hub_id,
                    tickets.c.supplier,
                    tickets.c.number,
                    tickets.c.title,
                    tickets.c.priority,
                    tickets.c.status,
                    tickets.c.sla_state,
                    tickets.c.sla_due_at,
                    tickets.c.routed_to,
                ),
                scope,
            )
            .where(
                tickets.c.open.is_(True),
                tickets.c.sla_state == "at_risk",
            )
            .order_by(tickets.c.sla_due_at.is_(None), tickets.c.sla_due_at)
            .limit(limit)
        )
        async with self.engine.connect() as conn:
            return [_row(r) for r in (await conn.execute(query)).mappings()]

    async def breached_since(
        self, since: datetime, scope: Scope = REGIE, *, limit: int = 50
    ) -> list[dict[str, Any]]:
        query = (
            self._scoped(
                select(
                    tickets.c.hub_id,
                    tickets.c.supplier,
                    tickets.c.number,
                    tickets.c.title,
                    tickets.c.priority,
                    tickets.c.status,
                    tickets.c.sla_breached_at,
                    tickets.c.routed_to,
                ),
                scope,
            )
            .where(tickets.c.sla_breached_at >= since)
            .order_by(tickets.c.sla_breached_at.desc())
            .limit(limit)
        )
        async with self.engine.connect() as conn:
            return [_row(r) for r in (await conn.execute(query)).mappings()]

    async def figures(self, scope: Scope = REGIE) -> list[dict[str, Any]]:
        """Key figures per supplier: open, at risk, breached (open), MTTR (hours, resolved),
        reopen rate (share of tickets reopened at least once), hand-offs per ticket."""
        t = tickets.c
        query = (
            self._scoped(
                select(
                    t.supplier,
                    func.count().label("total"),
                    func.sum(case((t.open.is_(True), 1), else_=0)).label("open"),
                    func.sum(
                        case((and_(t.open.is_(True), t.sla_state == "at_risk"), 1), else_=0)
                    ).label("at_risk"),
                    func.sum(
                        case((and_(t.open.is_(True), t.sla_state == "breached"), 1), else_=0)
                    ).label("breached"),
                    func.avg(t.resolve_seconds).label("mttr_seconds"),
                    func.sum(case((t.reopen_count > 0, 1), else_=0)).label("reopened"),
                    func.sum(t.handoffs).label("handoffs"),
                ),
                scope,
            )
            .where(t.kind != "unknown")
            .group_by(t.supplier)
            .order_by(t.supplier)
        )
        out = []
        async with self.engine.connect() as conn:
            for row in (await conn.execute(query)).mappings():
                total = int(row["total"] or 0)
                mttr = row["mttr_seconds"]
                out.append(
                    {
                        "supplier": row["supplier"],
                        "total": total,
                        "open": int(row["open"] or 0),
                        "at_risk": int(row["at_risk"] or 0),
                        "breached": int(row["breached"] or 0),
                        "mttr_hours": round(float(mttr) / 3600, 1) if mttr is not None else None,
                        "reopen_rate": round(int(row["reopened"] or 0) / total, 3)
                        if total
                        else 0.0,
                        "handoffs": int(row["handoffs"] or 0),
                        "handoffs_per_ticket": round(int(row["handoffs"] or 0) / total, 2)
                        if total
                        else 0.0,
                    }
                )
        return out

    async def scorecard(
        self, supplier: str, *, months: int = 12, now: datetime | None = None
    ) -> list[dict[str, Any]]:
        """Per month (by opening): volume, resolved, SLA met %, mean time to resolve."""
        now = now or datetime.now(UTC)
        since = (now.replace(day=1) - timedelta(days=31 * (months - 1))).replace(
            day=1, hour=0, minute=0, second=0, microsecond=0
        )
        t = tickets.c
        month = (
            func.strftime("%Y-%m", t.opened_at)
            if self._dialect == "sqlite"
            else func.to_char(t.opened_at, "YYYY-MM")
        ).label("month")
        query = (
            select(
                month,
                func.count().label("volume"),
                func.sum(case((t.resolve_seconds.is_not(None), 1), else_=0)).label("resolved"),
                func.sum(case((t.sla_state.is_not(None), 1), else_=0)).label("with_sla"),
                func.sum(case((t.sla_breached_at.is_not(None), 1), else_=0)).label("breached"),
                func.avg(t.resolve_seconds).label("mttr_seconds"),
            )
            .where(t.supplier == supplier, t.opened_at >= since)
            .group_by(month)
            .order_by(month)
        )
        async with self.engine.connect() as conn:
            rows = list((await conn.execute(query)).mappings())
        out = []
        for row in rows:
            with_sla = int(row["with_sla"] or 0)
            breached = int(row["breached"] or 0)
            mttr = row["mttr_seconds"]
            out.append(
                {
                    "month": row["month"],
                    "volume": int(row["volume"]),
                    "resolved": int(row["resolved"] or 0),
                    "sla_met_pct": round(100 * (with_sla - breached) / with_sla, 1)
                    if with_sla
                    else None,
                    "mttr_hours": round(float(mttr) / 3600, 1) if mttr is not None else None,
                }
            )
        return out

    async def triage_queue(self, *, limit: int = 100) -> list[dict[str, Any]]:
        columns = [c for c in tickets.c if c.name not in ("snapshot", "search")]
        query = (
            select(*columns)
            .where(tickets.c.triage.is_(True), tickets.c.open.is_(True))
            .order_by(tickets.c.updated_at)
            .limit(limit)
        )
        async with self.engine.connect() as conn:
            return [_row(r) for r in (await conn.execute(query)).mappings()]

    # -- dead letters ----------------------------------------------------------------------

    async def dead_letters(
        self, *, limit: int = 100, offset: int = 0, open_only: bool = False
    ) -> list[dict[str, Any]]:
        columns = [c for c in dead_letters.c if c.name not in ("value", "key", "headers")]
        query = select(*columns)
        if open_only:
            query = query.where(dead_letters.c.replayed_at.is_(None))
        query = (
            query.order_by(dead_letters.c.failed_at.desc(), dead_letters.c.offset.desc())
            .limit(limit)
            .offset(offset)
        )
        async with self.engine.connect() as conn:
            return [_row(r) for r in (await conn.execute(query)).mappings()]

    async def dead_letter(self, partition: int, offset: int) -> dict[str, Any] | None:
        async with self.engine.connect() as conn:
            row = (
                (
                    await conn.execute(
                        select(dead_letters).where(
                            dead_letters.c.partition == partition, dead_letters.c.offset == offset
                        )
                    )
                )
                .mappings()
                .first()
            )
        return _row(row) if row is not None else None

    async def mark_replayed(self, partition: int, offset: int, *, by: str, at: datetime) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(dead_letters)
                .where(dead_letters.c.partition == partition, dead_letters.c.offset == offset)
                .values(replayed_at=at, replayed_by=by)
            )

    async def count_tickets(self) -> int:
        async with self.engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(tickets))).scalar_one())

    async def count_open_dead_letters(self) -> int:
        async with self.engine.connect() as conn:
            return int(
                (
                    await conn.execute(
                        select(func.count()).where(dead_letters.c.replayed_at.is_(None))
                    )
                ).scalar_one()
            )

    async def audit_log(self, *, limit: int = 100) -> list[dict[str, Any]]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(audit).order_by(audit.c.at.desc()).limit(limit))
            return [_row(r) for r in rows.mappings()]

    # -- evidence and retention --------------------------------------------------------------

    async def verify(self, hub_id: str | None = None) -> tuple[int, list[ChainProblem]]:
        """Check the hash chain of one ticket, or of every ticket: (chains checked, problems)."""
        problems: list[ChainProblem] = []
        async with self.engine.connect() as conn:
            if hub_id is not None:
                hubs = [hub_id]
            else:
                hubs = sorted(
                    set((await conn.execute(select(chains.c.hub_id))).scalars())
                    | set((await conn.execute(select(timeline.c.hub_id).distinct())).scalars())
                )
            for part in _chunks(hubs, 200):
                recorded = {
                    h: (n, head)
                    for h, n, head in await conn.execute(
                        select(chains.c.hub_id, chains.c.entries, chains.c.head).where(
                            chains.c.hub_id.in_(part)
                        )
                    )
                }
                grouped: dict[str, list[dict[str, Any]]] = {h: [] for h in part}
                rows = await conn.execute(
                    select(timeline)
                    .where(timeline.c.hub_id.in_(part))
                    .order_by(timeline.c.hub_id, timeline.c.seq)
                )
                for row in rows.mappings():
                    grouped[row["hub_id"]].append(_row(row))
                for hub in part:
                    length, head = recorded.get(hub, (None, None))
                    problems += verify_chain(hub, grouped[hub], length=length, head=head)
        return len(hubs), problems

    async def purge(self, years: Mapping[str, float], *, now: datetime) -> dict[str, int]:
        """Remove what is past its retention (years per table): closed tickets (with their
        timeline, chain and routing rows) by their last update, audit events by time, dead
        letters by when they failed, CIs by their last update. Returns rows removed."""
        removed: dict[str, int] = {}

        def cutoff(table: str) -> datetime | None:
            value = years.get(table)
            return now - timedelta(days=value * 365.25) if value else None

        async with self.engine.begin() as conn:
            if (limit := cutoff("tickets")) is not None:
                old = select(tickets.c.hub_id).where(
                    tickets.c.open.is_(False), tickets.c.updated_at < limit
                )
                for table in (timeline, chains, ticket_gemeenten):
                    done = await conn.execute(delete(table).where(table.c.hub_id.in_(old)))
                    removed[table.name] = done.rowcount or 0
                done = await conn.execute(
                    delete(tickets).where(tickets.c.hub_id.in_(old.scalar_subquery()))
                )
                removed["feed_tickets"] = done.rowcount or 0
            if (limit := cutoff("audit")) is not None:
                done = await conn.execute(delete(audit).where(audit.c.at < limit))
                removed["feed_audit"] = done.rowcount or 0
            if (limit := cutoff("dead_letters")) is not None:
                done = await conn.execute(
                    delete(dead_letters).where(dead_letters.c.failed_at < limit)
                )
                removed["feed_dead_letters"] = done.rowcount or 0
            if (limit := cutoff("cis")) is not None:
                done = await conn.execute(delete(cis).where(cis.c.updated_at < limit))
                removed["feed_cis"] = done.rowcount or 0
        return removed

    async def optimize(self) -> None:
        """Refresh the query planner's statistics (SQLite: ``PRAGMA optimize``, which runs
        ANALYZE where the tables changed much; PostgreSQL's autovacuum does this itself)."""
        if self._dialect == "sqlite":
            async with self.engine.begin() as conn:
                await conn.exec_driver_sql("PRAGMA optimize")

    async def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        """Every table's rows in a stable order (tests compare a rebuild with the live model)."""
        out: dict[str, list[dict[str, Any]]] = {}
        async with self.engine.connect() as conn:
            for table in (tickets, ticket_gemeenten, timeline, chains, cis, dead_letters, audit):
                keys = [c for c in table.primary_key.columns]
                rows = await conn.execute(select(table).order_by(*keys))
                out[table.name] = [_row(r) for r in rows.mappings()]
        return out
