"""Parked work (services.parking) on SQLite and PostgreSQL: superseding, order per thread,
leases, circuits, growing delays, the horizon, and what survives a new process."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import delete

from services.parking import (
    Circuit,
    Circuits,
    Drainer,
    Outcome,
    Parked,
    ParkingLot,
    ParkingPolicy,
    parked_work,
)
from services.store import open_store
from tests._postgres import postgres_url  # noqa: F401  (fixture)

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
POLICY = ParkingPolicy(
    initial_delay_s=10, max_delay_s=80, circuit_failures=3, probe_interval_s=30, horizon_s=3600
)


@pytest.fixture(params=["sqlite", "postgresql"])
async def lot(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ParkingLot]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'parked.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = await open_store(url)
    async with engine.begin() as conn:
        await conn.execute(delete(parked_work).where(parked_work.c.service == "test"))
    yield ParkingLot(engine)
    await engine.dispose()


def item(
    thread: str,
    key: str,
    *,
    version: int = 0,
    supersedes: bool = False,
    lane: str = "L",
    at: datetime = NOW,
) -> Parked:
    return Parked(
        service="test",
        lane=lane,
        thread=thread,
        key=key,
        supersedes=supersedes,
        version=version,
        value=f"value-{key}".encode(),
        record_key=thread.encode(),
        headers=(("h", b"\x00\xff"),),
        topic="schakel.gemeente.GM0505.v1",
        partition=1,
        offset=42,
        attempts=1,
        first_failed_at=at,
        next_attempt_at=at,
        last_error="HTTP 503",
    )


async def test_a_newer_state_replaces_the_parked_older_one_and_an_older_is_superseded(
    lot: ParkingLot,
) -> None:
    k1, k2, k3 = (uuid.uuid4().hex for _ in range(3))
    assert await lot.park(item("T", k1, version=1, supersedes=True)) == ("parked", [])
    assert await lot.park(item("T", k2, version=3, supersedes=True)) == ("parked", [k1])
    assert await lot.park(item("T", k3, version=2, supersedes=True)) == ("superseded", [])
    assert await lot.park(item("T", k2, version=3, supersedes=True)) == ("parked", [])  # again
    assert await lot.keys("test") == [k2]


async def test_replies_are_all_kept_and_only_each_threads_head_is_due(lot: ParkingLot) -> None:
    keys = [uuid.uuid4().hex for _ in range(3)]
    for key in keys:
        await lot.park(item("T", key))
    other = uuid.uuid4().hex
    await lot.park(item("U", other))
    assert await lot.blocked("test", [("L", "T"), ("L", "V")]) == {("L", "T")}
    heads = await lot.claim("test", NOW, 10)
    assert [h.key for h in heads] == [keys[0], other]
    assert heads[0].record == (
        "schakel.gemeente.GM0505.v1",
        1,
        42,
        b"T",
        f"value-{keys[0]}".encode(),
        (("h", b"\x00\xff"),),
    )
    assert await lot.claim("test", NOW, 10) == []  # leased: not handed out twice
    await lot.done(heads[0].seq)
    await lot.release(heads[1].seq, NOW)
    assert [h.key for h in await lot.claim("test", NOW, 10)] == [keys[1], other]


async def test_a_lease_runs_out_so_a_killed_drainer_leaves_nothing_behind(lot: ParkingLot) -> None:
    key = uuid.uuid4().hex
    await lot.park(item("T", key))
    [leased] = await lot.claim("test", NOW, 10, lease_s=60)
    assert await lot.claim("test", NOW + timedelta(seconds=59), 10) == []
    [again] = await lot.claim("test", NOW + timedelta(seconds=61), 10)  # the process died
    assert again.key == leased.key == key


def test_a_circuit_opens_after_repeated_failures_probes_and_closes() -> None:
    circuit = Circuit("test", "L", POLICY)
    for _ in range(3):
        assert circuit.allows(NOW)
        circuit.failed(NOW, "HTTP 503")
    assert circuit.state == "open" and not circuit.allows(NOW + timedelta(seconds=29))
    gauge = REGISTRY.get_sample_value("schakel_circuit_state", {"service": "test", "lane": "L"})
    assert gauge == 2  # open, on /metrics
    assert circuit.allows(NOW + timedelta(seconds=30)) and circuit.state == "half_open"
    assert not circuit.allows(NOW + timedelta(seconds=30))  # one probe at a time
    circuit.failed(NOW + timedelta(seconds=30), "HTTP 503")
    assert circuit.state == "open"
    assert circuit.allows(NOW + timedelta(seconds=61))
    assert circuit.succeeded() and circuit.state == "closed"
    assert REGISTRY.get_sample_value("schakel_circuit_state", {"service": "test", "lane": "L"}) == 0
    assert not circuit.succeeded()  # already closed: nothing to report


def test_delays_grow_to_the_maximum_and_retry_after_wins() -> None:
    delays = [POLICY.delay(n) for n in range(1, 7)]
    for delay, base in zip(delays, [10, 20, 40, 80, 80, 80], strict=True):
        assert base <= delay <= base * 1.1  # up to 10 % jitter
    assert POLICY.delay(1, retry_after=600) == 600


async def test_the_drainer_retries_in_order_with_growing_delays_then_gives_up(
    lot: ParkingLot,
) -> None:
    clock = [NOW]
    tried: list[str] = []
    given_up: list[tuple[str, str]] = []
    answers: dict[str, list[Outcome]] = {}

    async def attempt(parked: Parked) -> Outcome:
        tried.append(parked.key)
        return answers[parked.key].pop(0)

    async def give_up(parked: Parked, reason: str) -> None:
        given_up.append((parked.key, reason))

    policy = dataclasses.replace(POLICY, circuit_failures=100)
    drainer = Drainer(
        lot,
        "test",
        Circuits("test", policy),
        attempt,
        give_up,
        policy=policy,
        clock=lambda: clock[0],
    )
    a, b, c = (uuid.uuid4().hex for _ in range(3))
    for key in (a, b):
        await lot.park(item("T", key))
    await lot.park(item("U", c, lane="M"))
    answers[a] = [Outcome("transient", "HTTP 503"), Outcome.ok()]
    answers[b] = [Outcome.ok()]
    answers[c] = [Outcome("permanent", "HTTP 400")]
    assert await drainer.drain_once() == 0
    assert tried == [a, c] and given_up == [(c, "HTTP 400")]
    clock[0] = NOW + timedelta(seconds=19)
    assert await drainer.drain_once() == 0  # a failed a second time: it waits 20 s
    clock[0] = NOW + timedelta(seconds=23)
    assert await drainer.drain_once() == 1  # a, then b is the head
    assert await drainer.drain_once() == 1
    assert tried == [a, c, a, b] and await lot.keys("test") == []

    late = uuid.uuid4().hex
    await lot.park(item("T", late))
    answers[late] = [Outcome("transient", "connection refused")]
    clock[0] = NOW + timedelta(seconds=3601)  # past the horizon
    await drainer.drain_once()
    [(key, reason)] = given_up[1:]
    assert key == late and "given up after 2 attempt(s)" in reason
    assert "connection refused" in reason and await lot.keys("test") == []


async def test_an_open_circuit_holds_the_lane_and_a_successful_probe_drains_it(
    lot: ParkingLot,
) -> None:
    clock = [NOW]
    up = [False]
    tried: list[str] = []

    async def attempt(parked: Parked) -> Outcome:
        tried.append(parked.key)
        return Outcome.ok() if up[0] else Outcome("transient", "HTTP 503")

    async def give_up(parked: Parked, reason: str) -> None:
        raise AssertionError("nothing is given up inside the horizon")

    policy = dataclasses.replace(POLICY, circuit_failures=2, initial_delay_s=1, max_delay_s=1)
    circuits = Circuits("test", policy)
    drainer = Drainer(
        lot, "test", circuits, attempt, give_up, policy=policy, clock=lambda: clock[0]
    )
    keys = [uuid.uuid4().hex for _ in range(4)]
    for n, key in enumerate(keys):
        await lot.park(item(f"T{n}", key))
    await drainer.drain_once()  # the lane stops at its first failure
    clock[0] += timedelta(seconds=2)
    await drainer.drain_once()
    assert circuits.state("L") == "open" and len(tried) == 2
    clock[0] += timedelta(seconds=10)
    await drainer.drain_once()
    assert len(tried) == 2  # open: no calls until the probe
    up[0] = True
    clock[0] += timedelta(seconds=30)
    done = 0
    for _ in range(3):
        done += await drainer.drain_once()
    assert done == 4 and circuits.state("L") == "closed"
    assert tried[2:] == keys  # the backlog in order
