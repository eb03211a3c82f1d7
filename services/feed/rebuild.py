"""``schakel feed rebuild``: replay the outcome topics into a fresh read model.

Kafka is the system of record; the read model is a projection of it. A rebuild reads every
outcome topic from its beginning to its end (outside any consumer group) and projects it in
batches, topic by topic; the result equals the live model (the projection does not depend on
how the topics interleave; within a topic the order is Kafka's).
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient

from services.feed.store import ReadModel
from services.kafka import MAX_REQUEST_BYTES, client_options, wait_for_broker
from services.topics_io import ConsumedRecord, read_topic, topic_partitions

__all__ = ["OUTCOME_PATTERN", "RebuildReport", "outcome_topics", "rebuild"]

#: every topic the feed projects: normalised, routed, triage, replies, SLA, audit, dead letters
#: (no ``{n}`` repetition: FastStream reads braces in a pattern as path parameters)
OUTCOME_PATTERN = (
    r"schakel\.(incidents|changes|cis|deadletter|replies|sla|triage|audit"
    r"|gemeente\.GM[0-9][0-9][0-9][0-9])\.v1"
)
_OUTCOME = re.compile(f"^{OUTCOME_PATTERN}$")
#: the order a rebuild reads them in: the tickets first, then what happened to them
_ORDER = (
    "incidents",
    "changes",
    "cis",
    "gemeente",
    "triage",
    "replies",
    "audit",
    "sla",
    "deadletter",
)


@dataclass(frozen=True, slots=True)
class _Record:
    """A consumed record as the projector reads it (headers as Kafka's pairs)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]


def _raw(record: ConsumedRecord) -> _Record:
    return _Record(
        record.topic,
        record.partition,
        record.offset,
        record.key,
        record.value,
        tuple(record.headers.items()),
    )


@dataclass(frozen=True, slots=True)
class RebuildReport:
    topics: Sequence[str]
    records: int
    unreadable: int
    seconds: float


async def outcome_topics(bootstrap: str) -> list[str]:
    """The outcome topics that exist on the broker, in rebuild order."""
    await wait_for_broker(bootstrap, timeout_s=15)
    admin = AIOKafkaAdminClient(**client_options(bootstrap))
    await admin.start()
    try:
        names = [t for t in await admin.list_topics() if _OUTCOME.match(t)]
    finally:
        await admin.close()

    def rank(name: str) -> tuple[int, str]:
        part = name.split(".")[1]
        return (_ORDER.index(part) if part in _ORDER else len(_ORDER), name)

    return sorted(names, key=rank)


async def _read(
    bootstrap: str, topic: str, start: Mapping[int, int] | None
) -> AsyncIterator[_Record]:
    """The records of ``topic`` from ``start`` (partition -> offset; default: the beginning)
    to its end now."""
    if not start:
        async for record in read_topic(bootstrap, topic):
            yield _raw(record)
        return
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
        end = await consumer.end_offsets(tps)
        for tp in tps:
            consumer.seek(tp, start.get(tp.partition, 0))
        while [tp for tp in tps if await consumer.position(tp) < end[tp]]:
            batch = await consumer.getmany(timeout_ms=500, max_records=2000)
            for tp, records in batch.items():
                for r in records:
                    if r.offset < end[tp]:
                        yield _Record(
                            r.topic, r.partition, r.offset, r.key, r.value, tuple(r.headers)
                        )
    finally:
        await consumer.stop()


async def rebuild(
    bootstrap: str,
    model: ReadModel,
    *,
    topics: Sequence[str] | None = None,
    batch: int = 2000,
    start: Mapping[str, Mapping[int, int]] | None = None,
) -> RebuildReport:
    """Project every record of ``topics`` (default: every outcome topic) into ``model``;
    ``start`` (topic -> partition -> offset) begins later than the beginning (tests)."""
    started = time.perf_counter()
    chosen = list(topics) if topics is not None else await outcome_topics(bootstrap)
    records = unreadable = 0
    for topic in chosen:
        pending: list[_Record] = []
        async for record in _read(bootstrap, topic, (start or {}).get(topic)):
            pending.append(record)
            if len(pending) >= batch:
                unreadable += len((await model.apply(pending)).unreadable)
                records += len(pending)
                pending = []
        if pending:
            unreadable += len((await model.apply(pending)).unreadable)
            records += len(pending)
    return RebuildReport(chosen, records, unreadable, time.perf_counter() - started)
