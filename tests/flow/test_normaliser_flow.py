"""Fast flow tests of the normaliser's wiring on FastStream's in-memory broker.

The same paths run against the real broker in tests/e2e; these check the subscriber, the
publish of results and dead letters, and the headers, in milliseconds.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage

from schemas import CloudEvent, Incident
from schemas.topics import DEADLETTER, INCIDENTS, inbound_topic
from services.demo.traffic import servicenow_incident
from services.messaging import DLQ_ERROR_CLASS, DLQ_TOPIC
from tests.conftest import config_with_suppliers
from tests.fakes import flow_hub


@pytest.fixture
def flow(example_config: Any) -> tuple[KafkaBroker, list[Any], list[Any]]:
    config = config_with_suppliers(example_config, example_config.supplier("kpn"))
    broker, _ = flow_hub(config, ["normaliser"])
    events: list[Any] = []
    dead: list[Any] = []

    @broker.subscriber(INCIDENTS)
    async def seen_event(message: KafkaMessage) -> None:
        events.append(message)

    @broker.subscriber(DEADLETTER)
    async def seen_dead(message: KafkaMessage) -> None:
        dead.append(message)

    return broker, events, dead


async def test_servicenow_incident_becomes_cloudevent(flow: Any) -> None:
    broker, events, dead = flow
    _, key, value = servicenow_incident(random.Random(1), 1, datetime(2026, 1, 5, tzinfo=UTC))
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(value, inbound_topic("kpn"), key=key)
    assert not dead
    assert len(events) == 1
    event = CloudEvent[Incident].model_validate_json(events[0].body)
    assert event.data.supplier_ref.number == orjson.loads(value)["number"]
    assert events[0].raw_message.key == event.subject.encode()
    assert events[0].headers["schakel-event-id"] == event.id


async def test_malformed_payload_goes_to_dead_letter_with_original_bytes(flow: Any) -> None:
    broker, events, dead = flow
    original = b'{"sys_id": "x", '
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(original, inbound_topic("kpn"), key=b"k1")
    assert not events
    assert len(dead) == 1
    assert dead[0].body == original
    assert dead[0].headers[DLQ_ERROR_CLASS] == "MalformedPayload"
    assert dead[0].headers[DLQ_TOPIC] == inbound_topic("kpn")


async def test_redelivered_event_is_emitted_once(flow: Any) -> None:
    broker, events, dead = flow
    _, key, value = servicenow_incident(random.Random(3), 3, datetime(2026, 1, 5, tzinfo=UTC))
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(value, inbound_topic("kpn"), key=key)
        await test_broker.publish(value, inbound_topic("kpn"), key=key)
    assert len(events) == 1
    assert not dead
