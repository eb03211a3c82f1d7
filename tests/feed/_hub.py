"""The feed on the real broker, built by hand on the Service contract: its own consumer
group starting at the end of the shared topics, a fresh read model, the cockpit on a free
port; and helpers to publish outcomes."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer

from schemas.topics import topic_specs
from services.config import SchakelConfig, Settings
from services.contract import Runtime
from services.feed.service import FeedService
from services.feed.store import ReadModel
from services.kafka import build_broker, ensure_topics
from services.messaging import KafkaBatchPublisher, OutboundMessage
from services.topics_io import topic_partitions
from tests.e2e._io import wait_until
from tests.feed_kit import version, version_record

__all__ = ["RunningFeed", "end_offsets_of", "running_feed", "send"]


@dataclass
class RunningFeed:
    service: FeedService
    model: ReadModel
    publisher: KafkaBatchPublisher
    bootstrap: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.service.port}"


async def send(publisher: KafkaBatchPublisher, records: Sequence[Any]) -> None:
    """Publish test records (FakeRecord-like) to their topics, acknowledged."""
    await publisher.send_all(
        [OutboundMessage(r.topic, r.value, r.key, tuple(r.headers)) for r in records]
    )


async def end_offsets_of(bootstrap: str, topics: Sequence[str]) -> dict[str, dict[int, int]]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    try:
        out: dict[str, dict[int, int]] = {}
        for topic in topics:
            tps = await topic_partitions(bootstrap, topic)
            ends = await consumer.end_offsets(tps)
            out[topic] = {tp.partition: offset for tp, offset in ends.items()}
        return out
    finally:
        await consumer.stop()


@asynccontextmanager
async def running_feed(
    bootstrap: str, config: SchakelConfig, tmp_path: Path, *, http: bool = True, **overrides: Any
) -> AsyncIterator[RunningFeed]:
    settings = Settings(kafka_bootstrap=bootstrap, http_host="127.0.0.1")
    await ensure_topics(
        bootstrap,
        topic_specs([s.id for s in config.suppliers], [g.code for g in config.gemeenten]),
        wait_s=30,
    )
    model = await ReadModel.open(f"sqlite+aiosqlite:///{tmp_path / 'live.db'}")
    publisher = KafkaBatchPublisher(bootstrap, client_id="feed-test")
    await publisher.start()
    broker = build_broker(bootstrap, client_id="feed-test")
    runtime = Runtime(
        broker=broker,
        publisher=publisher,
        settings=settings,
        config=config,
        group_suffix=f"-test-{uuid.uuid4().hex[:8]}",
        overrides={"feed_model": model, "feed_offset_reset": "latest", "feed_port": 0, **overrides},
    )
    service = FeedService(http=http)
    service.bind(runtime)
    await service.start()
    await broker.start()
    try:
        probe = version(f"probe-{uuid.uuid4().hex}", 1)

        async def probed() -> bool:  # the group is assigned once a fresh record arrives
            await send(publisher, [version_record(probe)])
            return await model.ticket(probe.hub_id) is not None

        assert await wait_until(probed, timeout_s=60), "the feed's consumer never got going"
        yield RunningFeed(service, model, publisher, bootstrap)
    finally:
        await broker.stop()
        await service.stop()
        await publisher.stop()
        await model.close()
        await asyncio.sleep(0)
