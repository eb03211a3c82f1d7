"""Router wiring: the CMDB feed and a thin batch subscriber on the normalised ticket topics.

Two consumers on one broker:

* the **CMDB feed** reads ``schakel.cis.v1`` without a consumer group, so every router
  process reads the compacted topic from the beginning at start and then keeps following it
  (the same consumer): the CI table is rebuilt on every start and stays live;
* the **router** reads ``schakel.incidents.v1`` and ``schakel.changes.v1`` in batches in the
  group ``schakel-router``. Before its first batch it waits until the feed has applied the
  CMDB up to the end offsets it had at start (bounded by ``load_timeout_s``; after that it
  routes with what it has and says so). Per batch: route (plain functions, no I/O), then
  publish every routed event and dead letter and store every decision, wait once for all of
  it, then commit. If anything fails the batch is not committed and is consumed again
  (``AckPolicy.NACK_ON_ERROR``); routed event ids and stored decisions are idempotent.

CIs are not routed to the FB teams; they only feed the table.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiokafka import AIOKafkaConsumer
from faststream import AckPolicy
from pydantic import TypeAdapter, ValidationError

from schemas import CloudEvent, ConfigurationItem
from schemas.topics import CHANGES, CIS, INCIDENTS
from services.config import Settings
from services.kafka import raw_batch_decoder, raw_batch_parser
from services.logs import get_logger
from services.normaliser import RawRecord
from services.router._store import DecisionLog, SqlDecisionLog
from services.router.cmdb import CiTable
from services.router.pipeline import Router
from services.topics_io import topic_partitions

if TYPE_CHECKING:
    from services.runtime import Wiring

__all__ = [
    "CIS_GROUP",
    "GROUP_ID",
    "CmdbFeed",
    "EndOffsets",
    "RouterService",
    "register",
    "register_wiring",
]

GROUP_ID = "schakel-router"
#: The CMDB feed has no consumer group: every router process reads the whole topic.
CIS_GROUP = None

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
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
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
                "CMDB load not complete; routing with the CIs loaded so far",
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


@dataclass(frozen=True)
class RouterService:
    """What :func:`register` wired, for tests and tools; :meth:`close` after the broker
    stopped releases the store's connections."""

    router: Router
    feed: CmdbFeed
    decisions: DecisionLog

    async def close(self) -> None:
        await self.decisions.close()


def register(
    wiring: Wiring,
    *,
    settings: Settings | None = None,
    decisions: DecisionLog | None = None,
    cmdb_end_offsets: EndOffsets | None = None,
    max_records: int = 2000,
    load_timeout_s: float = 120.0,
) -> RouterService:
    """Subscribe the CMDB feed and the router on ``wiring.broker``.

    ``settings`` (default ``wiring.settings``) give the bootstrap servers (for the CMDB end
    offsets) and the store URL (for the decisions) when ``cmdb_end_offsets`` / ``decisions``
    are not given. Closing the decision store is added to ``wiring.on_shutdown``.
    """
    settings = settings or wiring.settings
    config = wiring.config
    router = Router(config)

    def loaded() -> None:
        for warning in router.check():
            log.warning("routing reference", problem=warning)

    if cmdb_end_offsets is None:
        bootstrap = settings.kafka_bootstrap

        async def cmdb_end_offsets() -> Mapping[int, int]:
            return await cis_end_offsets(bootstrap)

    if decisions is None:
        decisions = SqlDecisionLog(settings.store_url)
    feed = CmdbFeed(router.cmdb, cmdb_end_offsets, on_loaded=loaded)
    publisher = wiring.publisher
    store = decisions
    broker = wiring.broker

    @broker.subscriber(
        CIS,
        group_id=CIS_GROUP,
        batch=True,
        max_records=5000,
        batch_timeout_ms=50,
        max_partition_fetch_bytes=8 * 1024 * 1024,
        fetch_max_bytes=50 * 1024 * 1024,
        auto_offset_reset="earliest",
        parser=raw_batch_parser,
        decoder=raw_batch_decoder,
    )
    async def follow_cmdb(records: Any) -> None:
        await feed.apply(records)

    @broker.subscriber(
        INCIDENTS,
        CHANGES,
        group_id=GROUP_ID + wiring.group_suffix,
        batch=True,
        max_records=max_records,
        batch_timeout_ms=20,
        max_partition_fetch_bytes=8 * 1024 * 1024,
        fetch_max_bytes=50 * 1024 * 1024,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        parser=raw_batch_parser,
        decoder=raw_batch_decoder,
    )
    async def route_tickets(records: Any) -> None:
        await feed.wait_loaded(load_timeout_s)
        result = router.route_batch(records)
        await asyncio.gather(publisher.send_all(result.messages), store.save(result.decisions))

    service = RouterService(router, feed, store)
    wiring.on_shutdown.append(service.close)
    return service


def register_wiring(wiring: Wiring) -> None:
    """The ``runtime.SERVICES`` entry: everything from the wiring and its settings."""
    register(wiring)
