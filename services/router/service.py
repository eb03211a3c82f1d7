"""The router service: the CMDB feed and a thin batch subscriber on the normalised ticket topics.

Two consumers on one broker:

* the **CMDB feed** (:class:`services.cmdb.CmdbFeed`) reads ``schakel.cis.v1`` without a
  consumer group, so every router process reads the compacted topic from the beginning at
  start and then keeps following it (the same consumer): the CI table is rebuilt on every
  start and stays live;
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

from schemas.topics import CHANGES, CIS, INCIDENTS
from services.cmdb import FOLLOWER_GROUP, CmdbFeed, EndOffsets, cis_end_offsets
from services.contract import Batch, Runtime, batch_subscriber
from services.logs import get_logger
from services.router._store import DecisionLog, SqlDecisionLog
from services.router.pipeline import Router

__all__ = ["GROUP_ID", "RouterService"]

GROUP_ID = "schakel-router"

log = get_logger(__name__)


class RouterService:
    """The router as a :class:`~services.contract.Service`: the CMDB feed and the router.

    Adapters it reads from ``runtime.overrides``: ``router.decisions`` (a
    :class:`DecisionLog`; default the SQL store at ``settings.store_url``) and
    ``router.cmdb_end_offsets`` (an :data:`~services.cmdb.EndOffsets`; default the broker's
    end offsets of ``schakel.cis.v1``). After :meth:`bind`, ``router``, ``feed`` and
    ``decisions`` are there for tests and tools; :meth:`stop` closes the decision store.
    """

    name = "router"
    router: Router
    feed: CmdbFeed
    decisions: DecisionLog

    def __init__(self, *, max_records: int = 2000, load_timeout_s: float = 120.0) -> None:
        self.max_records = max_records
        self.load_timeout_s = load_timeout_s

    def bind(self, runtime: Runtime) -> None:
        settings = runtime.settings
        router = self.router = Router(runtime.config)
        bootstrap = settings.kafka_bootstrap

        async def broker_end_offsets() -> Mapping[int, int]:
            return await cis_end_offsets(bootstrap)

        def loaded() -> None:
            for warning in router.check():
                log.warning("routing reference", problem=warning)

        end_offsets: EndOffsets = runtime.adapter(
            "router.cmdb_end_offsets", lambda: broker_end_offsets
        )
        store = self.decisions = runtime.adapter(
            "router.decisions", lambda: SqlDecisionLog(settings.store_url)
        )
        feed = self.feed = CmdbFeed(router.cmdb, end_offsets, on_loaded=loaded)
        publisher = runtime.publisher
        load_timeout_s = self.load_timeout_s

        @batch_subscriber(
            runtime,
            CIS,
            group_id=FOLLOWER_GROUP,
            max_records=5000,
            batch_timeout_ms=50,
            max_partition_fetch_bytes=8 * 1024 * 1024,
            fetch_max_bytes=50 * 1024 * 1024,
        )
        async def follow_cmdb(records: Batch) -> None:
            await feed.apply(records)

        @batch_subscriber(
            runtime,
            INCIDENTS,
            CHANGES,
            group_id=GROUP_ID,
            max_records=self.max_records,
            max_partition_fetch_bytes=8 * 1024 * 1024,
            fetch_max_bytes=50 * 1024 * 1024,
        )
        async def route_tickets(records: Batch) -> None:
            await feed.wait_loaded(load_timeout_s)
            result = router.route_batch(records)
            await asyncio.gather(publisher.send_all(result.messages), store.save(result.decisions))

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        await self.decisions.close()
