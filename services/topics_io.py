"""Reading topics outside a consumer group: ``tail``, dead-letter listing and replay."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from schemas.wire import DLQ_OFFSET, DLQ_PARTITION, DLQ_PREFIX, DLQ_TOPIC, REPLAYED_FROM
from services.kafka import MAX_REQUEST_BYTES, client_options, wait_for_broker

__all__ = [
    "ConsumedRecord",
    "origin_of",
    "read_topic",
    "replay_dead_letters",
    "topic_partitions",
]


@dataclass(frozen=True, slots=True)
class ConsumedRecord:
    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes
    headers: dict[str, bytes]


async def topic_partitions(bootstrap: str, topic: str) -> list[TopicPartition]:
    """The partitions of ``topic``; LookupError when it does not exist."""
    admin = AIOKafkaAdminClient(**client_options(bootstrap))
    await admin.start()
    try:
        described = await admin.describe_topics([topic])
    finally:
        await admin.close()
    partitions = [p["partition"] for d in described if d["topic"] == topic for p in d["partitions"]]
    if not partitions:
        raise LookupError(f"topic '{topic}' does not exist")
    return [TopicPartition(topic, p) for p in sorted(partitions)]


async def read_topic(
    bootstrap: str,
    topic: str,
    *,
    from_beginning: bool = True,
    follow: bool = False,
    limit: int | None = None,
    idle_timeout_s: float = 2.0,
) -> AsyncIterator[ConsumedRecord]:
    """Records of ``topic``; stops at the end (unless ``follow``) or after ``limit``."""
    await wait_for_broker(bootstrap, timeout_s=15)
    consumer = AIOKafkaConsumer(
        **client_options(bootstrap),
        enable_auto_commit=False,
        group_id=None,
        fetch_max_bytes=MAX_REQUEST_BYTES,
        max_partition_fetch_bytes=MAX_REQUEST_BYTES,
    )
    await consumer.start()
    try:
        tps = await topic_partitions(bootstrap, topic)
        consumer.assign(tps)
        if from_beginning:
            await consumer.seek_to_beginning(*tps)
        else:
            await consumer.seek_to_end(*tps)
        end = await consumer.end_offsets(tps)
        seen = 0
        last_data = time.monotonic()
        while True:
            batch = await consumer.getmany(timeout_ms=200, max_records=500)
            for records in batch.values():
                for r in records:
                    yield ConsumedRecord(
                        r.topic,
                        r.partition,
                        r.offset,
                        r.timestamp,
                        r.key,
                        r.value or b"",
                        {k: v for k, v in r.headers},
                    )
                    seen += 1
                    if limit is not None and seen >= limit:
                        return
                last_data = time.monotonic()
            if not follow:
                positions = {tp: await consumer.position(tp) for tp in tps}
                if all(positions[tp] >= end[tp] for tp in tps):
                    return
                if time.monotonic() - last_data > idle_timeout_s * 5:
                    return
            await asyncio.sleep(0)
    finally:
        await consumer.stop()


async def replay_dead_letters(
    bootstrap: str, records: list[ConsumedRecord]
) -> list[tuple[int, str]]:
    """Send each dead letter's original bytes back to the topic it failed on.

    The original key and headers go with it; the ``schakel-dlq-*`` headers do not, except a
    ``schakel-replayed-from`` header naming the dead-letter offset (for the audit trail).
    Returns ``(dead-letter offset, target topic)`` per replayed record.
    """
    producer = AIOKafkaProducer(
        **client_options(bootstrap),
        acks="all",
        enable_idempotence=True,
        max_request_size=MAX_REQUEST_BYTES,
    )
    await producer.start()
    done: list[tuple[int, str]] = []
    try:
        futures = []
        for rec in records:
            target = rec.headers.get(DLQ_TOPIC, b"").decode()
            if not target:
                continue
            headers = [(k, v) for k, v in rec.headers.items() if not k.startswith(DLQ_PREFIX)]
            headers.append((REPLAYED_FROM, f"{rec.topic}:{rec.partition}:{rec.offset}".encode()))
            futures.append(await producer.send(target, rec.value, key=rec.key, headers=headers))
            done.append((rec.offset, target))
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return done


def origin_of(record: ConsumedRecord) -> str:
    """``topic[partition]@offset`` the dead letter came from."""
    h = record.headers
    return (
        f"{h.get(DLQ_TOPIC, b'?').decode()}[{h.get(DLQ_PARTITION, b'?').decode()}]"
        f"@{h.get(DLQ_OFFSET, b'?').decode()}"
    )
