"""Seeding the version gate from the tail of the normalised topics (Kafka as the store).

Every normalised event carries ``schakel-hub-id``, ``schakel-event-id`` and
``schakel-version`` headers; reading the last ``window`` records of each partition of the
incident, change and CI topics rebuilds what the gate knew before a restart, without parsing
a single payload.
"""

from __future__ import annotations

import time

from aiokafka import AIOKafkaConsumer, TopicPartition

from schemas.topics import NORMALISED
from schemas.wire import EVENT_ID, HUB_ID, VERSION
from services.kafka import client_options
from services.logs import get_logger
from services.normaliser.pipeline import VersionGate
from services.topics_io import topic_partitions

__all__ = ["seed_gate"]

log = get_logger(__name__)


async def seed_gate(
    bootstrap: str, gate: VersionGate, *, window: int = 2_000, topics: tuple[str, ...] = NORMALISED
) -> int:
    """Feed the last ``window`` records per partition of ``topics`` to ``gate``; returns how
    many events it saw."""
    started = time.monotonic()
    partitions: list[TopicPartition] = []
    for topic in topics:
        partitions += await topic_partitions(bootstrap, topic)
    consumer = AIOKafkaConsumer(
        **client_options(bootstrap),
        group_id=None,
        enable_auto_commit=False,
        max_partition_fetch_bytes=8 * 1024 * 1024,
        fetch_max_bytes=50 * 1024 * 1024,
    )
    await consumer.start()
    seen = 0
    try:
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        begins = await consumer.beginning_offsets(partitions)
        todo = {tp for tp in partitions if ends[tp] > begins[tp]}
        for tp in todo:
            consumer.seek(tp, max(begins[tp], ends[tp] - window))
        while todo:
            batch = await consumer.getmany(*todo, timeout_ms=500, max_records=5000)
            for tp, records in batch.items():
                for record in records:
                    headers = dict(record.headers)
                    hub, ev_id = headers.get(HUB_ID), headers.get(EVENT_ID)
                    version = headers.get(VERSION)
                    if hub and ev_id and version:
                        gate.observe(hub.decode(), int(version), ev_id.decode())
                        seen += 1
                if records and records[-1].offset + 1 >= ends[tp]:
                    todo.discard(tp)
            for tp in list(todo):
                if await consumer.position(tp) >= ends[tp]:
                    todo.discard(tp)
    finally:
        await consumer.stop()
    log.info("version gate seeded", events=seen, seconds=round(time.monotonic() - started, 2))
    return seen
