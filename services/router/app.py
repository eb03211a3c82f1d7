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
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from faststream import AckPolicy

from schemas.topics import CHANGES, CIS, INCIDENTS
from services.cmdb import FOLLOWER_GROUP, CmdbFeed, EndOffsets, cis_end_offsets
from services.config import Settings
from services.kafka import raw_batch_decoder, raw_batch_parser
from services.logs import get_logger
from services.router._store import DecisionLog, SqlDecisionLog
from services.router.pipeline import Router

if TYPE_CHECKING:
    from services.runtime import Wiring

__all__ = [
    "GROUP_ID",
    "RouterService",
    "register",
    "register_wiring",
]

GROUP_ID = "schakel-router"

log = get_logger(__name__)


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
        group_id=FOLLOWER_GROUP,
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
