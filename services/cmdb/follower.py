"""Following ``schakel.cis.v1`` into a :class:`~services.cmdb.table.CiTable`.

A consumer of the CMDB reads the compacted topic without a consumer group
(:data:`FOLLOWER_GROUP`), from the beginning, at every start, and keeps reading it with the
same consumer: the table is rebuilt on every start and then stays live. :class:`CmdbFeed`
applies the consumed records (plain state, no Kafka) and knows when the start-up load has
caught up with the end offsets the topic had at start (:func:`cis_end_offsets`), so a
consumer of the table can wait for it before its first decision.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence

from aiokafka import AIOKafkaConsumer
from pydantic import TypeAdapter, ValidationError

from schemas import CloudEvent, ConfigurationItem
from schemas.topics import CIS
from services.cmdb.table import CiTable
from services.kafka import client_options
from services.logs import get_logger
from services.messaging import RawRecord
from services.topics_io import topic_partitions

__all__ = ["FOLLOWER_GROUP", "CmdbFeed", "EndOffsets", "cis_end_offsets"]

#: The CMDB follower has no consumer group: every process reads the whole topic.
FOLLOWER_GROUP = None

#: Returns the end offset per partition of schakel.cis.v1 (the feed's start-up target).
EndOffsets = Callable[[], Awaitable[Mapping[int, int]]]

_CI_EVENT = TypeAdapter(CloudEvent[ConfigurationItem])

log = get_logger(__name__)


async def cis_end_offsets(bootstrap: str) -> dict[int, int]:
    """The end offsets of ``schakel.cis.v1`` now; empty when the topic does not exist."""
    try:
        partitions = await topic_partitions(bootstrap, CIS)
    except LookupError:
        return {}
    consumer = AIOKafkaConsumer(**client_options(bootstrap), group_id=None)
    await consumer.start()
    try:
        ends = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
    return {tp.partition: offset for tp, offset in ends.items()}


class CmdbFeed:
    """Applies CI events to the table; knows when the start-up load has caught up.

    Caught up means: for every partition the feed has applied everything below the end
    offset that partition had when the feed first asked (:data:`EndOffsets`).
    """

    def __init__(
        self,
        table: CiTable,
        end_offsets: EndOffsets,
        *,
        on_loaded: Callable[[], None] | None = None,
    ) -> None:
        self.table = table
        self.unreadable = 0
        self._end_offsets = end_offsets
        self._on_loaded = on_loaded
        self._applied: dict[int, int] = {}
        self._targets: dict[int, int] | None = None
        self._loaded = asyncio.Event()
        self._lock = asyncio.Lock()
        self._started = time.monotonic()

    @property
    def loaded(self) -> bool:
        return self._loaded.is_set()

    async def apply(self, records: Sequence[RawRecord]) -> None:
        await self._ensure_targets()
        self.apply_batch(records)

    def apply_batch(self, records: Sequence[RawRecord]) -> None:
        """Apply consumed records of schakel.cis.v1 in order (tombstones remove)."""
        unreadable = 0
        applied = self._applied
        for record in records:
            value = record.value
            if not value:
                if record.key:
                    self.table.remove(record.key.decode("utf-8", "replace"))
            else:
                try:
                    self.table.apply(_CI_EVENT.validate_json(value).data)
                except ValidationError:
                    unreadable += 1
                except Exception:  # a bug must not stop the feed (nor its readiness)
                    log.exception(
                        "CI event not applied",
                        topic=record.topic,
                        partition=record.partition,
                        offset=record.offset,
                    )
                    unreadable += 1
            if record.offset >= applied.get(record.partition, 0):
                applied[record.partition] = record.offset + 1
        if unreadable:
            self.unreadable += unreadable
            log.warning(
                "unreadable CI events skipped",
                topic=CIS,
                count=unreadable,
                total=self.unreadable,
            )
        self._check()

    async def wait_loaded(self, timeout_s: float) -> bool:
        """Wait until the start-up load caught up; False if ``timeout_s`` passed first."""
        if self._loaded.is_set():
            return True
        await self._ensure_targets()
        self._check()
        try:
            await asyncio.wait_for(self._loaded.wait(), timeout_s)
        except TimeoutError:
            log.warning(
                "CMDB load not complete; going on with the CIs loaded so far",
                cis=len(self.table),
                waited_s=timeout_s,
                applied=dict(self._applied),
                targets=self._targets,
            )
            self._loaded.set()
            return False
        return True

    async def _ensure_targets(self) -> None:
        if self._targets is not None:
            return
        async with self._lock:
            if self._targets is None:
                self._targets = dict(await self._end_offsets())
        self._check()

    def _check(self) -> None:
        targets = self._targets
        if targets is None or self._loaded.is_set():
            return
        if all(self._applied.get(p, 0) >= end for p, end in targets.items()):
            self._loaded.set()
            log.info(
                "CMDB loaded",
                topic=CIS,
                cis=len(self.table),
                relations=self.table.relations,
                seconds=round(time.monotonic() - self._started, 3),
            )
            if self._on_loaded is not None:
                self._on_loaded()
