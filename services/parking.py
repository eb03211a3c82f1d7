"""Parked work: a delivery or a supplier call that failed for a transient reason waits in the
store and is retried later, without holding up the consumer that met the failure.

Why the store and not Kafka retry topics with delays: the order per receiver and ticket must
hold. A newer version of a parked ticket must replace the older one for that receiver, and
the replies of one ticket must reach the supplier in order, none overtaking a parked one.
With retry topics, a new event on the main topic does not know that an older one of the same
ticket waits on a retry topic, and a delay topic can only hold up to its own delay; knowing
"this ticket has parked work at this receiver" needs a lookup by (receiver, ticket) anyway,
which is what the store (SQLite embedded, PostgreSQL in production) already is for delivery
and sync. A parked row is committed before the consumer's offset is, so it survives kill -9;
the drainer takes it up again after a restart.

* :data:`parked_work`: one row per parked item, ``lane`` (the receiver: gemeente/team/channel,
  or the supplier id: one circuit each), ``thread`` (the ticket's hub id: the order unit),
  ``key`` (the idempotency key or reply id: unique), ``supersedes`` (a ticket state: the
  newest wins) or not (a reply: all, in order), and the original record (value, key, headers,
  topic/partition/offset) for the item's dead letter if it is given up.
* :class:`ParkingLot`: park (superseding older states of the same lane and thread), which
  threads are blocked, the due heads (only the oldest row per lane and thread), retry later,
  done, wake a lane.
* :class:`Circuit` per lane (:class:`Circuits`): closed; open after ``circuit_failures``
  transient failures in a row (no calls, work is parked at once); a probe every
  ``probe_interval_s``; a successful probe closes it and wakes the lane's parked backlog, which
  then drains by itself, in order. Every change of state is logged (warning when it opens)
  and is the gauge ``schakel_circuit_state`` (0 closed, 1 half-open, 2 open) on /metrics,
  beside the counters ``schakel_parked`` and ``schakel_parked_outcomes``.
* :class:`Drainer`: the loop that retries due heads, lanes concurrently, one lane's items in
  order; growing delays (``initial_delay_s`` doubling up to ``max_delay_s``, Retry-After
  honoured) until ``horizon_s`` (default 24 hours) after the first failure; then, or at a
  permanent refusal, the item is given up (its service dead-letters it with the reason).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import random
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal, NamedTuple

import orjson
from prometheus_client import Counter, Gauge
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    delete,
    func,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from services.logs import get_logger
from services.store import metadata

__all__ = [
    "CIRCUIT_STATE",
    "PARKED",
    "PARKED_OUTCOMES",
    "Circuit",
    "CircuitState",
    "Circuits",
    "Drainer",
    "Outcome",
    "Parked",
    "ParkingLot",
    "ParkingPolicy",
    "StoredRecord",
    "first_retry_at",
    "parked_work",
]

log = get_logger(__name__)

#: metrics on the hub's registry (served on /metrics by services.observability)
CIRCUIT_STATE = Gauge(
    "schakel_circuit_state",
    "Circuit of a receiver (delivery) or supplier API (sync): 0 closed, 1 half-open, 2 open.",
    ["service", "lane"],
)
PARKED = Counter(
    "schakel_parked",
    "Deliveries and supplier calls parked after a transient failure, by service.",
    ["service"],
)
PARKED_OUTCOMES = Counter(
    "schakel_parked_outcomes",
    "Parked work ended: done (delivered/applied) or given_up (dead-lettered), by service.",
    ["service", "outcome"],
)
_STATE_VALUE = {"closed": 0, "half_open": 1, "open": 2}

parked_work = Table(
    "parked_work",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("service", String(16), nullable=False),
    Column("lane", String(200), nullable=False),
    Column("thread", String(64), nullable=False),
    Column("key", String(128), nullable=False, unique=True),
    Column("supersedes", Boolean, nullable=False),
    Column("version", BigInteger, nullable=False),
    Column("value", LargeBinary, nullable=False),
    Column("record_key", LargeBinary),
    Column("headers", Text, nullable=False),
    Column("topic", String(255), nullable=False),
    Column("partition", Integer, nullable=False),
    Column("offset", BigInteger, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("first_failed_at", DateTime(timezone=True), nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("last_error", Text, nullable=False),
    Index("ix_parked_work_due", "service", "next_attempt_at"),
    Index("ix_parked_work_thread", "service", "lane", "thread", "seq"),
)

_ERROR_MAX = 2000


@dataclass(frozen=True, slots=True)
class ParkingPolicy:
    """How parked work is retried (settings ``SCHAKEL_PARK_*``)."""

    horizon_s: float = 24 * 3600.0
    initial_delay_s: float = 5.0
    max_delay_s: float = 900.0
    circuit_failures: int = 5
    probe_interval_s: float = 30.0
    tick_s: float = 1.0
    batch: int = 200
    #: how long a claimed item is the claimer's (a killed process's claims run out after it)
    lease_s: float = 120.0

    def delay(self, attempts: int, retry_after: float | None = None) -> float:
        """The wait after the ``attempts``-th failure: doubling from ``initial_delay_s`` with
        up to 10 % jitter, at most ``max_delay_s``; a Retry-After asking longer wins."""
        base = self.initial_delay_s * 2.0 ** min(max(attempts - 1, 0), 40)
        wait = min(base, self.max_delay_s) * (1 + random.uniform(0, 0.1))
        return max(wait, retry_after or 0.0)

    @classmethod
    def from_settings(cls, settings: object) -> ParkingPolicy:
        """Policy from ``Settings`` fields named ``park_<field>``, where present."""
        values = {
            name: getattr(settings, f"park_{name}")
            for name in cls.__dataclass_fields__
            if getattr(settings, f"park_{name}", None) is not None
        }
        return cls(**values)


class StoredRecord(NamedTuple):
    """A consumed record as it was parked (a :class:`services.messaging.RawRecord`)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]


@dataclass(frozen=True, slots=True)
class Parked:
    """One parked item: where it waits and the record it came from."""

    service: str
    lane: str
    thread: str
    key: str
    supersedes: bool
    version: int
    value: bytes
    record_key: bytes | None
    headers: tuple[tuple[str, bytes], ...]
    topic: str
    partition: int
    offset: int
    attempts: int
    first_failed_at: datetime
    next_attempt_at: datetime
    last_error: str
    seq: int = 0

    @property
    def record(self) -> StoredRecord:
        """The original record (for the dead letter, with its bytes, key and headers)."""
        return StoredRecord(
            self.topic, self.partition, self.offset, self.record_key, self.value, self.headers
        )


def _encode_headers(headers: Iterable[tuple[str, bytes | None]]) -> str:
    return orjson.dumps(
        [[name, base64.b64encode(raw or b"").decode("ascii")] for name, raw in headers]
    ).decode()


def _decode_headers(text: str) -> tuple[tuple[str, bytes], ...]:
    return tuple((name, base64.b64decode(raw)) for name, raw in orjson.loads(text))


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class ParkingLot:
    """Async SQLAlchemy Core over :data:`parked_work` (the engine of the service's store)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._insert = sqlite.insert if engine.dialect.name == "sqlite" else postgresql.insert

    async def park(self, item: Parked) -> tuple[Literal["parked", "superseded"], list[str]]:
        """Park ``item``; ("superseded", []) when a newer state of its thread waits already,
        else ("parked", keys of the older states it replaced). A key parked already stays
        as it is (a batch consumed again)."""
        p = parked_work.c
        same_thread = (
            (p.service == item.service) & (p.lane == item.lane) & (p.thread == item.thread)
        )
        async with self.engine.begin() as conn:
            replaced: list[str] = []
            if item.supersedes:
                rows = (
                    await conn.execute(
                        select(p.key, p.version).where(same_thread & p.supersedes.is_(True))
                    )
                ).all()
                if any(version >= item.version and key != item.key for key, version in rows):
                    return "superseded", []
                replaced = [key for key, version in rows if version < item.version]
                if replaced:
                    await conn.execute(delete(parked_work).where(p.key.in_(replaced)))
            row = {
                "service": item.service,
                "lane": item.lane,
                "thread": item.thread,
                "key": item.key,
                "supersedes": item.supersedes,
                "version": item.version,
                "value": item.value,
                "record_key": item.record_key,
                "headers": _encode_headers(item.headers),
                "topic": item.topic,
                "partition": item.partition,
                "offset": item.offset,
                "attempts": item.attempts,
                "first_failed_at": item.first_failed_at,
                "next_attempt_at": item.next_attempt_at,
                "last_error": item.last_error[:_ERROR_MAX],
            }
            await conn.execute(self._insert(parked_work).values(row).on_conflict_do_nothing())
        PARKED.labels(item.service).inc()
        return "parked", replaced

    async def blocked(
        self, service: str, threads: Iterable[tuple[str, str]]
    ) -> set[tuple[str, str]]:
        """Which of the (lane, thread) pairs have parked work: new work of theirs waits behind."""
        wanted = list(set(threads))
        if not wanted:
            return set()
        p = parked_work.c
        found: set[tuple[str, str]] = set()
        async with self.engine.connect() as conn:
            for start in range(0, len(wanted), 400):
                chunk = wanted[start : start + 400]
                rows = await conn.execute(
                    select(p.lane, p.thread)
                    .where((p.service == service) & tuple_(p.lane, p.thread).in_(chunk))
                    .distinct()
                )
                found.update((lane, thread) for lane, thread in rows)
        return found

    async def claim(
        self, service: str, now: datetime, limit: int, lease_s: float = 120.0
    ) -> list[Parked]:
        """The heads (oldest row of each lane and thread) whose time has come, oldest first,
        each leased to the caller: its next attempt moves ``lease_s`` ahead, so a second
        instance of the service does not retry it too, and a process killed in the middle
        of a retry leaves it due again after the lease."""
        p = parked_work.c
        heads = (
            select(func.min(p.seq))
            .where(p.service == service)
            .group_by(p.lane, p.thread)
            .scalar_subquery()
        )
        query = (
            select(parked_work)
            .where(p.seq.in_(heads) & (p.next_attempt_at <= now))
            .order_by(p.seq)
            .limit(limit)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        if not rows:
            return []
        leased = now + timedelta(seconds=lease_s)
        won: list[Parked] = []
        async with self.engine.begin() as conn:
            for r in rows:
                taken = await conn.execute(
                    update(parked_work)
                    .where((p.seq == r["seq"]) & (p.next_attempt_at <= now))
                    .values(next_attempt_at=leased)
                )
                if taken.rowcount != 1:
                    continue  # another instance leased it first
                won.append(
                    Parked(
                        service=r["service"],
                        lane=r["lane"],
                        thread=r["thread"],
                        key=r["key"],
                        supersedes=r["supersedes"],
                        version=r["version"],
                        value=r["value"],
                        record_key=r["record_key"],
                        headers=_decode_headers(r["headers"]),
                        topic=r["topic"],
                        partition=r["partition"],
                        offset=r["offset"],
                        attempts=r["attempts"],
                        first_failed_at=_utc(r["first_failed_at"]),
                        next_attempt_at=leased,
                        last_error=r["last_error"],
                        seq=r["seq"],
                    )
                )
        return won

    async def release(self, seq: int, at: datetime) -> None:
        """Give a leased row back untried (its lane's circuit is open)."""
        async with self.engine.begin() as conn:
            await conn.execute(
                update(parked_work).where(parked_work.c.seq == seq).values(next_attempt_at=at)
            )

    async def done(self, seq: int) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(delete(parked_work).where(parked_work.c.seq == seq))

    async def retry_later(self, seq: int, attempts: int, at: datetime, error: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(parked_work)
                .where(parked_work.c.seq == seq)
                .values(attempts=attempts, next_attempt_at=at, last_error=error[:_ERROR_MAX])
            )

    async def wake(self, service: str, lane: str, now: datetime) -> int:
        """Make the lane's parked work due now (its circuit closed); returns how much."""
        p = parked_work.c
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(parked_work)
                .where((p.service == service) & (p.lane == lane) & (p.next_attempt_at > now))
                .values(next_attempt_at=now)
            )
        return int(result.rowcount or 0)

    async def count(self, service: str, lane: str | None = None) -> int:
        p = parked_work.c
        where = p.service == service
        if lane is not None:
            where = where & (p.lane == lane)
        async with self.engine.connect() as conn:
            return int((await conn.execute(select(func.count()).where(where))).scalar_one())

    async def keys(self, service: str) -> list[str]:
        """The parked keys of ``service``, oldest first (tools and tests)."""
        p = parked_work.c
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(p.key).where(p.service == service).order_by(p.seq))
            return [key for (key,) in rows]


# --- circuits ------------------------------------------------------------------------------

CircuitState = Literal["closed", "open", "half_open"]


@dataclass(slots=True)
class Circuit:
    """The circuit of one lane (a receiver or a supplier API)."""

    service: str
    lane: str
    policy: ParkingPolicy
    state: CircuitState = "closed"
    failures: int = 0
    next_probe_at: datetime | None = None

    def _set(self, state: CircuitState) -> None:
        self.state = state
        CIRCUIT_STATE.labels(self.service, self.lane).set(_STATE_VALUE[state])

    def allows(self, now: datetime) -> bool:
        """Whether a call may be made now; an open circuit lets one probe through when due."""
        if self.state == "closed":
            return True
        if self.next_probe_at is not None and now >= self.next_probe_at:
            # open and the probe is due, or half-open and the last probe never reported back
            self._set("half_open")
            self.next_probe_at = now + timedelta(seconds=self.policy.probe_interval_s)
            log.info("circuit half-open: probing", service=self.service, lane=self.lane)
            return True
        return False

    def succeeded(self) -> bool:
        """A call succeeded; True when that closed an open (or probing) circuit."""
        self.failures = 0
        if self.state == "closed":
            return False
        self._set("closed")
        self.next_probe_at = None
        return True

    def failed(self, now: datetime, reason: str) -> None:
        """A call failed for a transient reason."""
        self.failures += 1
        probe_at = now + timedelta(seconds=self.policy.probe_interval_s)
        if self.state == "half_open":
            self._set("open")
            self.next_probe_at = probe_at
            log.info(
                "circuit stays open: the probe failed",
                service=self.service,
                lane=self.lane,
                reason=reason[:300],
                next_probe_at=probe_at.isoformat(),
            )
        elif self.state == "closed" and self.failures >= self.policy.circuit_failures:
            self._set("open")
            self.next_probe_at = probe_at
            log.warning(
                "circuit opened: calls stop, work is parked",
                service=self.service,
                lane=self.lane,
                failures=self.failures,
                reason=reason[:300],
                next_probe_at=probe_at.isoformat(),
            )


@dataclass(slots=True)
class Circuits:
    """The circuits of one service, one per lane, created closed on first use."""

    service: str
    policy: ParkingPolicy
    lanes: dict[str, Circuit] = field(default_factory=dict)

    def __call__(self, lane: str) -> Circuit:
        circuit = self.lanes.get(lane)
        if circuit is None:
            circuit = self.lanes[lane] = Circuit(self.service, lane, self.policy)
        return circuit

    def state(self, lane: str) -> CircuitState:
        circuit = self.lanes.get(lane)
        return circuit.state if circuit is not None else "closed"


# --- the drainer ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one retry of a parked item came to."""

    kind: Literal["done", "transient", "permanent"]
    reason: str = ""
    retry_after: float | None = None

    @classmethod
    def ok(cls) -> Outcome:
        return cls("done")


#: retry one parked item (the service rebuilds its work from the stored record)
Attempt = Callable[[Parked], Awaitable[Outcome]]
#: give one parked item up (the service dead-letters it with the reason); returns when sent
GiveUp = Callable[[Parked, str], Awaitable[None]]


class Drainer:
    """Retries a service's parked work: every ``tick_s``, the due heads, lanes concurrently."""

    def __init__(
        self,
        lot: ParkingLot,
        service: str,
        circuits: Circuits,
        attempt: Attempt,
        give_up: GiveUp,
        *,
        policy: ParkingPolicy,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.lot = lot
        self.service = service
        self.circuits = circuits
        self._attempt = attempt
        self._give_up = give_up
        self.policy = policy
        self._clock = clock
        self._task: asyncio.Task[None] | None = None
        self._wakeup = asyncio.Event()
        self._leased: set[int] = set()

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name=f"{self.service}-drainer")

    async def stop(self) -> None:
        """Stop the loop; what it had claimed is due again at once (for the next process)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        now = self._clock()
        for seq in sorted(self._leased):
            with contextlib.suppress(Exception):  # the store is away: the lease runs out
                await self.lot.release(seq, now)
        self._leased.clear()

    def poke(self) -> None:
        """Run the next round now (a circuit closed)."""
        self._wakeup.set()

    async def _run(self) -> None:
        while True:
            try:
                await self.drain_once()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the store is away: try again next tick
                log.warning(
                    "parked work not drained this round",
                    service=self.service,
                    error_class=type(error).__name__,
                    reason=str(error)[:300],
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self.policy.tick_s)
            self._wakeup.clear()

    def _deadline(self, item: Parked) -> datetime:
        return item.first_failed_at + timedelta(seconds=self.policy.horizon_s)

    async def _expire(self, item: Parked, reason: str, attempts: int, now: datetime) -> None:
        waited = (now - item.first_failed_at).total_seconds()
        await self._give_up(
            item,
            f"{reason}; given up after {attempts} attempt(s) over {waited:.0f} s "
            f"(horizon {self.policy.horizon_s:g} s)",
        )
        await self.lot.done(item.seq)
        PARKED_OUTCOMES.labels(self.service, "given_up").inc()

    async def closed(self, lane: str) -> None:
        """A lane's circuit closed (here or in the consumer): its backlog drains now."""
        await self.lot.wake(self.service, lane, self._clock())
        log.info(
            "circuit closed: the parked backlog drains",
            service=self.service,
            lane=lane,
            parked=await self.lot.count(self.service, lane),
        )
        self.poke()

    async def drain_once(self) -> int:
        """One round: retry every due head (in order per lane); returns how many were done."""
        now = self._clock()
        heads = await self.lot.claim(self.service, now, self.policy.batch, self.policy.lease_s)
        if not heads:
            return 0
        self._leased.update(item.seq for item in heads)
        lanes: dict[str, list[Parked]] = {}
        for item in heads:
            lanes.setdefault(item.lane, []).append(item)
        try:
            counts = await asyncio.gather(*(self._lane(items) for items in lanes.values()))
        except Exception:  # the store failed: these leases run out by themselves
            self._leased.difference_update(item.seq for item in heads)
            raise
        # (when cancelled, stop() gives back what is still leased)
        self._leased.difference_update(item.seq for item in heads)
        return sum(counts)

    async def _lane(self, items: Sequence[Parked]) -> int:
        done = 0
        for index, item in enumerate(items):
            circuit = self.circuits(item.lane)
            now = self._clock()
            if not circuit.allows(now):  # open: the lane waits for its probe
                probe = circuit.next_probe_at or now
                for rest in items[index:]:
                    if now >= self._deadline(rest):
                        await self._expire(rest, rest.last_error, rest.attempts, now)
                    else:
                        await self.lot.release(rest.seq, max(probe, now))
                return done
            try:
                outcome = await self._attempt(item)
            except Exception as error:  # the hub's own store or producer: try again later
                log.warning(
                    "retry of parked work failed in the hub",
                    service=self.service,
                    lane=item.lane,
                    error_class=type(error).__name__,
                    reason=str(error)[:300],
                )
                outcome = Outcome("transient", f"{type(error).__name__} in the hub")
            now = self._clock()
            if outcome.kind == "done":
                await self.lot.done(item.seq)
                PARKED_OUTCOMES.labels(self.service, "done").inc()
                done += 1
                if circuit.succeeded():
                    await self.closed(item.lane)
                continue
            if outcome.kind == "permanent":
                await self._give_up(item, outcome.reason)
                await self.lot.done(item.seq)
                PARKED_OUTCOMES.labels(self.service, "given_up").inc()
                continue
            circuit.failed(now, outcome.reason)
            attempts = item.attempts + 1
            deadline = self._deadline(item)
            if now >= deadline:
                await self._expire(item, outcome.reason, attempts, now)
                continue
            wait = self.policy.delay(attempts, outcome.retry_after)
            at = min(now + timedelta(seconds=wait), deadline)
            await self.lot.retry_later(item.seq, attempts, at, outcome.reason)
            for rest in items[index + 1 :]:  # the rest of this lane would most likely fail too
                await self.lot.release(rest.seq, now)
            return done
        return done


def first_retry_at(now: datetime, policy: ParkingPolicy, retry_after: float | None) -> datetime:
    """When an item parked now, after its first failure, is first retried."""
    return now + timedelta(seconds=policy.delay(1, retry_after))
