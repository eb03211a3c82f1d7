"""The SLA service without a broker: consumed batches and the timer in, SLA CloudEvents out.

The store is real, SQLite and PostgreSQL (Debian's, started by the session fixture); the
clock is injected; the publisher keeps what it was given.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import orjson
import pytest
from faststream.kafka import KafkaBroker

from schemas import HoldReason, Incident, IncidentStatus, Priority, SlaEvent
from schemas.topics import DEADLETTER, INCIDENTS, SLA
from services.config import SchakelConfig, Settings
from services.contract import Runtime
from services.sla import SlaService, SlaStore
from tests._postgres import postgres_url  # noqa: F401  (session fixture)
from tests.fakes import FakeRecord, MemoryPublisher
from tests.router_kit import T0, incident, ticket_record
from tests.sync_kit import BACKENDS, backend_url


@pytest.fixture(params=BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SlaStore]:
    opened = await SlaStore.open(backend_url(request, tmp_path))
    yield opened
    await opened.close()


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def service_for(
    config: SchakelConfig, store: SlaStore, clock: Clock, published: set[str]
) -> tuple[SlaService, MemoryPublisher]:
    publisher = MemoryPublisher()
    runtime = Runtime(
        KafkaBroker("127.0.0.1:1"),
        publisher,
        Settings(),
        config,
        clock=clock,
        overrides={"sla.store": store, "sla.published": published},
    )
    service = SlaService()
    service.bind(runtime)
    return service, publisher


def events_of(publisher: MemoryPublisher, hub: str) -> list[tuple[str, SlaEvent]]:
    out = []
    for message in publisher.sent:
        if message.topic != SLA or message.key != hub.encode():
            continue
        document = orjson.loads(message.value)
        out.append((document["id"], SlaEvent.model_validate(document["data"])))
    return out


def later(ticket: Incident, minutes: int, **update: object) -> Incident:
    return ticket.model_copy(
        update={
            "updated_at": T0 + timedelta(minutes=minutes),
            "version": ticket.version + 1,
            **update,
        }
    )


async def test_ticket_events_and_the_timer_give_every_sla_event_once(
    example_config: SchakelConfig, store: SlaStore
) -> None:
    # kpn P2: response 30 minutes, resolution 480 minutes, 24x7
    first = incident(f"inc-{uuid.uuid4().hex}", priority=Priority.P2).model_copy(
        update={"opened_at": T0}
    )
    hub = first.hub_id
    clock = Clock(T0 + timedelta(seconds=5))
    service, publisher = service_for(example_config, store, clock, set())
    await service.start()
    try:
        await service.handle([ticket_record(first)])
        assert [(e.clock.value, e.event.value) for _, e in events_of(publisher, hub)] == [
            ("response", "started"),
            ("resolution", "started"),
        ]
        clock.now = T0 + timedelta(minutes=25)  # nothing happens to the ticket
        await service.tick()
        got = [
            (e.clock.value, e.event.value, e.threshold_percent)
            for _, e in events_of(publisher, hub)
        ]
        assert got[2:] == [("response", "warning", 75)]
        clock.now = T0 + timedelta(minutes=31)
        await service.tick()
        await service.tick()  # nothing more is due: nothing again
        got = [(e.clock.value, e.event.value) for _, e in events_of(publisher, hub)]
        assert got[3:] == [("response", "warning"), ("response", "breached")]
        breach = events_of(publisher, hub)[-1][1]
        assert breach.at == T0 + timedelta(minutes=30)  # at its moment, not at the tick
        answered = later(first, 40, status=IncidentStatus.IN_PROGRESS)
        clock.now = T0 + timedelta(minutes=41)
        await service.handle([ticket_record(answered, 1)])
        assert events_of(publisher, hub)[-1][1].event.value == "stopped"
        on_hold = later(
            answered,
            60,
            status=IncidentStatus.ON_HOLD,
            hold_reason=HoldReason.AWAITING_CALLER,
        )
        await service.handle([ticket_record(on_hold, 2)] * 2)  # redelivered: once
        paused = [e for _, e in events_of(publisher, hub) if e.event.value == "paused"]
        assert len(paused) == 1
        assert paused[0].reason == "waiting for the caller"
        ids = [i for i, _ in events_of(publisher, hub)]
        assert len(ids) == len(set(ids))
    finally:
        await service.stop()

    # a restarted service (the ids on the topic given) sends nothing twice
    again, republished = service_for(example_config, store, clock, set(ids))
    await again.start()
    try:
        await again.handle([ticket_record(first), ticket_record(on_hold, 2)])
        await again.tick()
        assert events_of(republished, hub) == []
    finally:
        await again.stop()


async def test_what_fell_due_while_the_service_was_down_comes_at_start(
    example_config: SchakelConfig, store: SlaStore
) -> None:
    ticket = incident(f"inc-{uuid.uuid4().hex}", priority=Priority.P2)
    clock = Clock(T0)
    service, publisher = service_for(example_config, store, clock, set())
    await service.start()
    await service.handle([ticket_record(ticket)])
    await service.stop()
    sent = {i for i, _ in events_of(publisher, ticket.hub_id)}
    clock.now = T0 + timedelta(hours=9)  # down for nine hours: everything fell due
    later_service, later_publisher = service_for(example_config, store, clock, sent)
    await later_service.start()
    await later_service.stop()
    kinds = [(e.clock.value, e.event.value) for _, e in events_of(later_publisher, ticket.hub_id)]
    assert kinds == [
        ("response", "warning"),
        ("response", "warning"),
        ("response", "breached"),
        ("resolution", "warning"),
        ("resolution", "warning"),
        ("resolution", "breached"),
    ]


async def test_a_record_that_is_no_ticket_is_dead_lettered(
    example_config: SchakelConfig, store: SlaStore
) -> None:
    service, publisher = service_for(example_config, store, Clock(T0), set())
    await service.start()
    try:
        await service.handle([FakeRecord(INCIDENTS, 0, 7, b"k", b'{"data": {"hub_id": 1}}')])
    finally:
        await service.stop()
    assert [m.topic for m in publisher.sent] == [DEADLETTER]
    assert publisher.sent[0].value == b'{"data": {"hub_id": 1}}'


async def test_warnings_and_breaches_are_counted_on_metrics(
    example_config: SchakelConfig, store: SlaStore
) -> None:
    from services.observability import SLA_EVENTS

    def count(kind: str) -> float:
        return SLA_EVENTS.labels("kpn", kind)._value.get()

    first = incident(f"inc-{uuid.uuid4().hex}", priority=Priority.P2).model_copy(
        update={"opened_at": T0}
    )
    clock = Clock(T0 + timedelta(seconds=5))
    service, _ = service_for(example_config, store, clock, set())
    warnings, breaches = count("warning"), count("breached")
    await service.start()
    try:
        await service.handle([ticket_record(first)])
        clock.now = T0 + timedelta(minutes=31)
        await service.tick()
    finally:
        await service.stop()
    assert count("warning") - warnings == 2  # 75 % and 90 % of the response target
    assert count("breached") - breaches == 1
