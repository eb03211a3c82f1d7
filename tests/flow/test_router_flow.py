"""The router's wiring on FastStream's in-memory broker: the CMDB feed, the batch subscriber
on the ticket topics, routed events on the gemeente and triage topics, decisions stored.

The same paths run against the real broker in tests/e2e/test_router_kafka.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage

from schemas import CloudEvent, RoutedTicket
from schemas.topics import CIS, DEADLETTER, INCIDENTS, TRIAGE, gemeente_topic
from services.config import SchakelConfig
from services.messaging import DLQ_SERVICE
from services.router import RouterService
from tests.fakes import flow_hub
from tests.router_kit import (
    DRECHTSTEDEN,
    MemoryDecisionLog,
    ci,
    ci_event,
    incident,
    ticket_event,
)


@pytest.fixture
def flow(example_config: SchakelConfig) -> tuple[KafkaBroker, RouterService, dict[str, list[Any]]]:
    async def no_backlog() -> dict[int, int]:
        return {}

    broker, hub = flow_hub(
        example_config,
        ["router"],
        overrides={"router.decisions": MemoryDecisionLog(), "router.cmdb_end_offsets": no_backlog},
    )
    service = hub.services["router"]
    assert isinstance(service, RouterService)
    seen: dict[str, list[Any]] = {}
    for topic in [*(gemeente_topic(c) for c in DRECHTSTEDEN), TRIAGE, DEADLETTER]:

        def collector(name: str) -> Any:
            async def collect(message: KafkaMessage) -> None:
                seen.setdefault(name, []).append(message)

            return collect

        broker.subscriber(topic)(collector(topic))
    return broker, service, seen


def routed(messages: list[Any]) -> list[CloudEvent[RoutedTicket]]:
    return [CloudEvent[RoutedTicket].model_validate_json(m.body) for m in messages]


async def test_cis_feed_the_table_and_tickets_reach_their_gemeenten(flow: Any) -> None:
    broker, service, seen = flow
    shared = ci("zs", "Zaaksysteem Drechtsteden", gemeenten=DRECHTSTEDEN)
    single = ci("fs", "DC1-FS01", gemeenten=["GM0642"])
    on_shared = incident("inc-1", ci_record="zs")
    on_single = incident("inc-2", ci_record="fs")
    nowhere = incident("inc-3", ci_name="Onbekend")
    async with TestKafkaBroker(broker) as test_broker:
        for item in (shared, single):
            await test_broker.publish(ci_event(item), CIS, key=item.hub_id.encode())
        assert len(service.router.cmdb) == 2  # CIs are not routed, only kept
        for ticket in (on_shared, on_single, nowhere):
            await test_broker.publish(ticket_event(ticket), INCIDENTS, key=ticket.hub_id.encode())
    for code in DRECHTSTEDEN:
        events = routed(seen.get(gemeente_topic(code), []))
        expected = {on_shared.hub_id} | ({on_single.hub_id} if code == "GM0642" else set())
        assert {e.subject for e in events} == expected
        for event in events:
            assert {r.gemeente for r in event.data.decision.recipients} == {code}
    (triaged,) = routed(seen[TRIAGE])
    assert triaged.subject == nowhere.hub_id and triaged.data.decision.basis == "triage"
    assert DEADLETTER not in seen
    zwijndrecht = seen[gemeente_topic("GM0642")]
    assert {m.raw_message.key for m in zwijndrecht} == {
        on_shared.hub_id.encode(),
        on_single.hub_id.encode(),
    }
    assert {m.headers["schakel-destination"] for m in zwijndrecht} == {"GM0642"}
    stored = service.decisions.rows  # type: ignore[attr-defined]
    assert len(stored) == 7 + 1 + 1
    assert service.feed.loaded


async def test_a_deleted_ci_no_longer_routes_and_garbage_is_dead_lettered(flow: Any) -> None:
    broker, service, seen = flow
    item = ci("fs", "DC1-FS01", gemeenten=["GM0642"])
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(ci_event(item), CIS, key=item.hub_id.encode())
        await test_broker.publish(
            ci_event(ci("fs", deleted=True, version=2)), CIS, key=item.hub_id.encode()
        )
        ticket = incident("inc-9", ci_record="fs")
        await test_broker.publish(ticket_event(ticket), INCIDENTS, key=ticket.hub_id.encode())
        await test_broker.publish(b"{nope", INCIDENTS, key=b"x")
    assert len(service.router.cmdb) == 0
    assert [e.subject for e in routed(seen[TRIAGE])] == [ticket.hub_id]
    assert gemeente_topic("GM0642") not in seen
    (dead,) = seen[DEADLETTER]
    assert dead.body == b"{nope" and dead.headers[DLQ_SERVICE] == "router"
