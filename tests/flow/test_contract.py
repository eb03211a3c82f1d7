"""The Service contract's batch subscriber on FastStream's in-memory broker."""

from __future__ import annotations

from faststream.kafka import KafkaBroker, TestKafkaBroker

from services.config import Settings
from services.contract import Runtime, batch_subscriber
from tests.fakes import MemoryPublisher


async def test_the_handler_gets_the_records_unchecked_and_its_group_suffixed(
    example_config: object,
) -> None:
    """FastStream validates a handler's arguments against their annotations; the contract's
    subscriber hands the raw records over as they are (no per-record pydantic check), even
    to a handler whose annotation they would fail."""
    broker = KafkaBroker("127.0.0.1:1")
    runtime = Runtime(
        broker=broker,
        publisher=MemoryPublisher(),
        settings=Settings(),
        config=example_config,  # type: ignore[arg-type]
        group_suffix="-t",
    )
    got: list[object] = []

    @batch_subscriber(runtime, "schakel.test.contract", group_id="schakel-test")
    async def handle(records: int) -> None:  # type: ignore[type-var]  # deliberately wrong
        got.append(records)

    [subscriber] = broker.subscribers
    assert subscriber.group_id == "schakel-test-t"
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(b"not json", "schakel.test.contract", key=b"k")
    [records] = got
    [record] = list(records)  # type: ignore[call-overload]
    assert (record.topic, record.key, record.value) == ("schakel.test.contract", b"k", b"not json")
