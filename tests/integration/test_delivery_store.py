"""The delivery store on SQLite, and on PostgreSQL when ``SCHAKEL_TEST_POSTGRES_URL`` names
one (e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/schakel_test``)."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.delivery import Delivery, DeliveryStore, Receipt, Thread, idempotency_key
from services.delivery.deliverer import _ROUTED
from tests.delivery_kit import STORE_BACKENDS, open_test_store, routed_event


@pytest.fixture(params=STORE_BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[DeliveryStore]:
    opened = await open_test_store(request.param, tmp_path)
    yield opened
    await opened.close()


def delivery(
    version: int = 1, channel: str = "topdesk-1", record_id: str | None = None
) -> Delivery:
    event = routed_event("GM0505", ["fb-zaken"], version=version, record_id=record_id or "r1")
    return Delivery(
        event_id=event.event_id,
        hub_id=event.hub_id,
        gemeente="GM0505",
        team="fb-zaken",
        channel=channel,
        kind="incident",
        routed=_ROUTED.model_validate_json(event.value).data,
        idempotency_key=idempotency_key(event.event_id, "GM0505", "fb-zaken", channel),
        body=event.value,
    )


async def test_delivered_key_and_receiver_reference(store: DeliveryStore) -> None:
    first = delivery(1)
    thread = Thread.of(first)
    assert await store.snapshot([first.idempotency_key], [thread]) == (set(), {})
    await store.record_delivered(first, Receipt("created", "incident-uuid", "I2611 001"), 1)
    done, states = await store.snapshot([first.idempotency_key, "other"], [thread])
    assert done == {first.idempotency_key}
    assert states[thread].receiver_ref == "incident-uuid"
    assert states[thread].last_version == 1
    assert await store.receiver_ref(thread) == "incident-uuid"


async def test_the_first_reference_stays_and_the_version_only_grows(store: DeliveryStore) -> None:
    v1, v3, v2 = delivery(1, "email-1"), delivery(3, "email-1"), delivery(2, "email-1")
    await store.record_delivered(v1, Receipt("sent", "<first@x>"), 1)
    await store.record_delivered(v3, Receipt("sent", "<third@x>"), 1)
    await store.record_delivered(v2, Receipt("sent", "<second@x>"), 1)
    _, states = await store.snapshot([], [Thread.of(v1)])
    assert states[Thread.of(v1)].receiver_ref == "<first@x>"
    assert states[Thread.of(v1)].last_version == 3


async def test_failure_then_success_accumulates_attempts(store: DeliveryStore) -> None:
    d = delivery(1, "webhook-1")
    await store.record_failed(d, "HTTP 503", 4)
    assert await store.delivery_status(d.idempotency_key) == ("failed", 4, "HTTP 503")
    assert await store.snapshot([d.idempotency_key], []) == (set(), {})
    await store.record_delivered(d, Receipt("accepted"), 1)
    assert await store.delivery_status(d.idempotency_key) == ("delivered", 5, None)
    await store.record_failed(d, "late report", 1)  # never undoes a delivery
    assert await store.delivery_status(d.idempotency_key) == ("delivered", 5, None)


async def test_superseded_counts_as_done(store: DeliveryStore) -> None:
    d = delivery(1, "webhook-1")
    await store.record_superseded(d)
    done, _ = await store.snapshot([d.idempotency_key], [])
    assert done == {d.idempotency_key}


async def test_large_snapshots_and_concurrent_writes(store: DeliveryStore) -> None:
    batch = [
        dataclasses.replace(delivery(1, "webhook-1"), idempotency_key=str(uuid.uuid4()))
        for _ in range(3)
    ]
    many = [delivery(1, f"webhook-{i}", record_id=f"r{i % 50}") for i in range(450)]
    await asyncio.gather(
        *(store.record_delivered(d, Receipt("accepted", f"ref-{d.channel}"), 1) for d in many)
    )
    keys = [d.idempotency_key for d in many] + [d.idempotency_key for d in batch]
    done, states = await store.snapshot(keys, {Thread.of(d) for d in many})
    assert done == {d.idempotency_key for d in many}
    assert len(states) == 450
