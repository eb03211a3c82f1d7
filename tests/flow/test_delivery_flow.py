"""The delivery service's wiring on FastStream's in-memory broker, with fake channels.

The same paths run against the real broker and real receivers in tests/e2e; these check the
pattern subscription, the dead-letter publish and its headers, and replay, in milliseconds.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage

from schemas.topics import DEADLETTER, gemeente_topic
from services.config import SchakelConfig
from services.delivery import DeliveryOptions, DeliveryStore
from services.delivery.errors import ReceiverRejected
from services.messaging import DLQ_ERROR, DLQ_ERROR_CLASS, DLQ_SERVICE, DLQ_TOPIC
from tests.delivery_kit import FakeChannels, email, gemeente, routed_event, team, webhook
from tests.fakes import flow_hub

HOOK = "http://fb.example/GM0505/zaken"
MAIL = "mailto:fb-zaken@dordrecht.example"
HOOK_OTHER = "http://fb.example/GM0482/zaken"
GEMEENTEN = [
    gemeente(
        "GM0505",
        team("fb-zaken", webhook(HOOK, "S1"), email(2525, "fb-zaken@dordrecht.example")),
    ),
    gemeente("GM0482", team("fb-zaken", webhook(HOOK_OTHER, "S2"))),
]


@pytest.fixture
async def flow(
    tmp_path: Path, example_config: SchakelConfig
) -> AsyncIterator[tuple[KafkaBroker, FakeChannels, list[Any]]]:
    store = await DeliveryStore.open(f"sqlite+aiosqlite:///{tmp_path / 'd.db'}")
    fakes = FakeChannels()
    broker, hub = flow_hub(
        example_config.model_copy(update={"gemeenten": GEMEENTEN}),
        ["delivery"],
        overrides={
            "delivery.store": store,
            "delivery.channels": fakes,
            "delivery.options": DeliveryOptions(backoff_initial_s=0.001),
        },
    )
    dead: list[Any] = []

    @broker.subscriber(DEADLETTER)
    async def seen_dead(message: KafkaMessage) -> None:
        dead.append(message)

    yield broker, fakes, dead
    await hub.services["delivery"].stop()
    await store.close()


async def test_routed_event_reaches_the_teams_channels(flow) -> None:
    broker, fakes, dead = flow
    event = routed_event("GM0505", ["fb-zaken", ("GM0482", "fb-zaken")])
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(event.value, event.topic, key=event.key)
        await test_broker.publish(event.value, event.topic, key=event.key)  # redelivered
    assert not dead
    assert [len(fakes[t].calls) for t in (HOOK, MAIL)] == [1, 1]
    assert not fakes[HOOK_OTHER].calls, "never to a team of another gemeente"
    assert fakes[HOOK].calls[0].body == event.value


async def test_failure_is_dead_lettered_and_replay_delivers_only_what_failed(flow) -> None:
    broker, fakes, dead = flow
    fakes[HOOK].errors.append(ReceiverRejected("webhook: HTTP 400", status=400))
    event = routed_event("GM0505", ["fb-zaken"])
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(
            event.value, event.topic, key=event.key, headers={"schakel-event-id": event.event_id}
        )
        assert len(dead) == 1
        letter = dead[0]
        assert letter.body == event.value
        assert letter.raw_message.key == event.key
        assert letter.headers["schakel-event-id"] == event.event_id
        assert letter.headers[DLQ_ERROR_CLASS] == "ReceiverRejected"
        assert letter.headers[DLQ_TOPIC] == gemeente_topic("GM0505")
        assert letter.headers[DLQ_SERVICE] == "delivery"
        assert "HTTP 400" in letter.headers[DLQ_ERROR]
        # what `schakel deadletter replay` does: the original back onto its topic
        replay_headers = {
            k: v for k, v in letter.headers.items() if not k.startswith("schakel-dlq")
        }
        await test_broker.publish(
            letter.body, letter.headers[DLQ_TOPIC], key=event.key, headers=replay_headers
        )
    assert len(dead) == 1
    assert len(fakes[HOOK].accepted) == 1
    assert len(fakes[MAIL].calls) == 1, "the e-mail was delivered the first time: not again"


async def test_event_on_an_unconfigured_gemeente_topic_is_dead_lettered(flow) -> None:
    broker, _, dead = flow
    event = routed_event("GM0999", ["fb-zaken"])
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(event.value, event.topic, key=event.key)
    assert [m.headers[DLQ_ERROR_CLASS] for m in dead] == ["UnknownGemeente"]
