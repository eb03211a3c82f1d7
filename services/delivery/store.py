"""The delivery store: idempotency records and receiver references (SQLite or PostgreSQL).

Reads happen once per batch (:meth:`DeliveryStore.snapshot`); each delivery's outcome is
committed as soon as it is known (concurrent outcomes share one transaction: group commit),
so a crash loses at most the deliveries in flight, and those are made harmless by the
receivers' idempotency (webhook ``Idempotency-Key``, TOPdesk external number lookup, e-mail
Message-ID).
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, func, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from services.delivery._tables import deliveries
from services.delivery.channels import Delivery, Receipt
from services.store import open_store
from services.tickets.tables import receiver_tickets

__all__ = ["DeliveryStore", "Thread", "ThreadState"]

_CHUNK = 400
_ERROR_MAX = 2000


@dataclass(frozen=True, slots=True)
class Thread:
    """One ticket at one receiver: where its updates must go."""

    hub_id: str
    gemeente: str
    team: str
    channel: str

    @classmethod
    def of(cls, delivery: Delivery) -> Thread:
        return cls(delivery.hub_id, delivery.gemeente, delivery.team, delivery.channel)


@dataclass(frozen=True, slots=True)
class ThreadState:
    receiver_ref: str | None
    last_version: int


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


class DeliveryStore:
    """Async SQLAlchemy Core over :mod:`services.delivery._tables` and the receivers'
    references in :mod:`services.tickets.tables`."""

    def __init__(self, engine: AsyncEngine) -> None:
        dialect = engine.dialect.name
        if dialect not in ("sqlite", "postgresql"):
            raise ValueError(f"the delivery store supports SQLite and PostgreSQL, not {dialect}")
        self.engine = engine
        self._insert = sqlite.insert if dialect == "sqlite" else postgresql.insert
        self._delivery_upsert, self._thread_upsert = self._statements()
        self._pending: list[tuple[dict[str, Any], dict[str, Any] | None, asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, url: str) -> DeliveryStore:
        """Open the store at ``url``, creating the tables if needed."""
        return cls(await open_store(url))

    async def close(self) -> None:
        await self.engine.dispose()

    async def snapshot(
        self, keys: Collection[str], threads: Collection[Thread]
    ) -> tuple[set[str], dict[Thread, ThreadState]]:
        """The keys among ``keys`` delivered already, and the known state of ``threads``."""
        done: set[str] = set()
        states: dict[Thread, ThreadState] = {}
        async with self.engine.connect() as conn:
            for chunk in _chunks(sorted(keys)):
                rows = await conn.execute(
                    select(deliveries.c.idempotency_key).where(
                        deliveries.c.idempotency_key.in_(chunk),
                        deliveries.c.status.in_(("delivered", "superseded")),
                    )
                )
                done.update(row[0] for row in rows)
            t = receiver_tickets.c
            for chunk in _chunks(list(threads)):
                rows = await conn.execute(
                    select(
                        t.hub_id, t.gemeente, t.team, t.channel, t.receiver_ref, t.last_version
                    ).where(
                        tuple_(t.hub_id, t.gemeente, t.team, t.channel).in_(
                            [(th.hub_id, th.gemeente, th.team, th.channel) for th in chunk]
                        )
                    )
                )
                for row in rows:
                    states[Thread(row[0], row[1], row[2], row[3])] = ThreadState(row[4], row[5])
        return done, states

    async def record_delivered(
        self, delivery: Delivery, receipt: Receipt, attempts: int, *, now: datetime | None = None
    ) -> None:
        """The delivery succeeded: mark its key done and remember the receiver reference.

        The first reference of a thread stays (the TOPdesk incident, the first Message-ID);
        ``last_version`` only grows. Returns once the row is committed.
        """
        now = now or datetime.now(UTC)
        row = self._delivery_row(delivery, "delivered", receipt.receiver_ref, attempts, None, now)
        thread = {
            "hub_id": delivery.hub_id,
            "gemeente": delivery.gemeente,
            "team": delivery.team,
            "channel": delivery.channel,
            "receiver_ref": receipt.receiver_ref,
            "receiver_number": receipt.receiver_number,
            "last_version": delivery.version,
            "created_at": now,
            "updated_at": now,
        }
        await self._commit(row, thread)

    async def record_failed(
        self, delivery: Delivery, error: str, attempts: int, *, now: datetime | None = None
    ) -> None:
        """The delivery failed for now (it is dead-lettered); a replay may still succeed."""
        now = now or datetime.now(UTC)
        await self._commit(
            self._delivery_row(delivery, "failed", None, attempts, error[:_ERROR_MAX], now), None
        )

    async def record_superseded(self, delivery: Delivery, *, now: datetime | None = None) -> None:
        """A newer version of the ticket reached this receiver already; this one is skipped."""
        now = now or datetime.now(UTC)
        await self._commit(self._delivery_row(delivery, "superseded", None, 0, None, now), None)

    async def receiver_ref(self, thread: Thread) -> str | None:
        """The receiver's reference of ``thread`` (for tools and tests)."""
        t = receiver_tickets.c
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(t.receiver_ref).where(
                        tuple_(t.hub_id, t.gemeente, t.team, t.channel)
                        == tuple_(thread.hub_id, thread.gemeente, thread.team, thread.channel)
                    )
                )
            ).first()
        return row[0] if row else None

    async def delivery_status(self, key: str) -> tuple[str, int, str | None] | None:
        """(status, attempts, last_error) of the delivery with this idempotency key."""
        d = deliveries.c
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(d.status, d.attempts, d.last_error).where(d.idempotency_key == key)
                )
            ).first()
        return (row[0], row[1], row[2]) if row else None

    @staticmethod
    def _delivery_row(
        delivery: Delivery,
        status: str,
        receiver_ref: str | None,
        attempts: int,
        error: str | None,
        now: datetime,
    ) -> dict[str, Any]:
        return {
            "idempotency_key": delivery.idempotency_key,
            "hub_id": delivery.hub_id,
            "gemeente": delivery.gemeente,
            "team": delivery.team,
            "channel": delivery.channel,
            "event_id": delivery.event_id,
            "version": delivery.version,
            "status": status,
            "receiver_ref": receiver_ref,
            "attempts": attempts,
            "last_error": error,
            "delivered_at": now if status == "delivered" else None,
            "updated_at": now,
        }

    async def _commit(self, row: dict[str, Any], thread: dict[str, Any] | None) -> None:
        """Write one outcome, committed together with whatever else is waiting (group commit).

        Concurrent deliveries share one transaction instead of one each; every caller still
        returns only after its own row is committed. One flush runs at a time, which is also
        what SQLite (one writer) wants.
        """
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((row, thread, done))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        await done

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            rows = [row for row, _, _ in batch]
            threads = [thread for _, thread, _ in batch if thread is not None]
            try:
                async with self.engine.begin() as conn:
                    await conn.execute(self._delivery_upsert, rows)
                    if threads:
                        await conn.execute(self._thread_upsert, threads)
            except BaseException as error:
                for _, _, done in batch:
                    if not done.done():
                        done.set_exception(error)
                if not isinstance(error, Exception):
                    raise
                continue
            for _, _, done in batch:
                if not done.done():
                    done.set_result(None)

    def _statements(self) -> tuple[Any, Any]:
        """The two upserts, as executemany statements (dialect-specific ON CONFLICT)."""
        insert = self._insert(deliveries)
        d, ex = deliveries.c, insert.excluded
        delivery_upsert = insert.on_conflict_do_update(
            index_elements=[d.idempotency_key],
            set_={
                "status": ex.status,
                "receiver_ref": func.coalesce(ex.receiver_ref, d.receiver_ref),
                "attempts": d.attempts + ex.attempts,
                "last_error": ex.last_error,
                "delivered_at": func.coalesce(ex.delivered_at, d.delivered_at),
                "updated_at": ex.updated_at,
            },
            # a delivered key stays delivered (a late failure report must not undo it)
            where=d.status != "delivered",
        )
        insert = self._insert(receiver_tickets)
        t, ex = receiver_tickets.c, insert.excluded
        thread_upsert = insert.on_conflict_do_update(
            index_elements=[t.hub_id, t.gemeente, t.team, t.channel],
            set_={
                "receiver_ref": func.coalesce(t.receiver_ref, ex.receiver_ref),
                "receiver_number": func.coalesce(t.receiver_number, ex.receiver_number),
                "last_version": case(
                    (ex.last_version > t.last_version, ex.last_version), else_=t.last_version
                ),
                "updated_at": ex.updated_at,
            },
        )
        return delivery_upsert, thread_upsert
