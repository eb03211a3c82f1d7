"""Reading what the hub produced, from a known position, with an independent consumer."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient

from services.bootstrap import Hub, bootstrap
from services.config import SchakelConfig, Settings
from services.topics_io import topic_partitions

Record = ConsumerRecord[bytes, bytes]


async def end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    tps = await topic_partitions(bootstrap, topic)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    try:
        ends = await consumer.end_offsets(tps)
        return {tp.partition: off for tp, off in ends.items()}
    finally:
        await consumer.stop()


async def collect(
    bootstrap: str,
    topic: str,
    since: dict[int, int],
    want: Callable[[Record], bool],
    count: int,
    timeout_s: float = 60.0,
    settle_s: float = 1.0,
) -> list[Record]:
    """Records of ``topic`` after ``since`` that match ``want``: ``count`` of them, then wait
    ``settle_s`` more to catch any extra (so a test can assert 'exactly')."""
    tps = await topic_partitions(bootstrap, topic)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        max_partition_fetch_bytes=10 * 1024 * 1024,
        fetch_max_bytes=10 * 1024 * 1024,
    )
    await consumer.start()
    found: list[Record] = []
    try:
        consumer.assign(tps)
        for tp in tps:
            consumer.seek(tp, since.get(tp.partition, 0))
        deadline = time.monotonic() + timeout_s
        settle_until: float | None = None
        while time.monotonic() < (settle_until or deadline):
            batch = await consumer.getmany(timeout_ms=200)
            for records in batch.values():
                found.extend(r for r in records if want(r))
            if len(found) >= count and settle_until is None:
                settle_until = time.monotonic() + settle_s
        return found
    finally:
        await consumer.stop()


async def committed(bootstrap: str, group: str, topic: str) -> dict[int, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
        return {tp.partition: meta.offset for tp, meta in offsets.items() if tp.topic == topic}
    finally:
        await admin.close()


@asynccontextmanager
async def running_hub(
    bootstrap_servers: str,
    config: SchakelConfig,
    services: list[str] | None = None,
    *,
    settings: Settings | None = None,
    overrides: dict[str, Any] | None = None,
) -> AsyncIterator[Hub]:
    """The hub's services (all when None) in this process against the real broker, built by
    the composition root as ``schakel serve`` builds them; ``settings`` (the broker's
    address filled in) and ``overrides`` as :func:`services.bootstrap.bootstrap` takes them."""
    settings = (settings or Settings()).model_copy(update={"kafka_bootstrap": bootstrap_servers})
    hub = bootstrap(settings, config, services or [], overrides=overrides)
    async with hub.running():
        yield hub


async def wait_until(check: Callable[[], bool | Awaitable[bool]], timeout_s: float = 30.0) -> bool:
    """Poll ``check`` (plain or async) until it holds or ``timeout_s`` passed."""

    async def holds() -> bool:
        outcome = check()
        return await outcome if inspect.isawaitable(outcome) else outcome

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await holds():
            return True
        await asyncio.sleep(0.2)
    return await holds()
