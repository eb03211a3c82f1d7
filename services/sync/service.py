"""The sync service: two thin batch subscribers on one broker.

* the **correlation feed** (group ``schakel-sync-correlation``) follows
  ``schakel.incidents.v1``, ``schakel.changes.v1`` and the configured gemeenten's
  ``schakel.gemeente.<GMxxxx>.v1``, and stores correlations and routes
  (:mod:`services.sync.correlate`), then commits;
* the **sync** (group ``schakel-sync``) reads ``schakel.replies.v1`` and applies the replies
  (:class:`~services.sync.syncer.Syncer`), then commits.

Both use ``AckPolicy.NACK_ON_ERROR``: if the store or the broker fails, the batch is consumed
again; both are idempotent (versions, routes, reply ids).
"""

from __future__ import annotations

from schemas.topics import CHANGES, INCIDENTS, REPLIES, gemeente_topic
from services.contract import Batch, Runtime, batch_subscriber
from services.logs import get_logger
from services.parking import ParkingPolicy
from services.sync.correlate import read_batch
from services.sync.supplier_api import SupplierApi
from services.sync.syncer import Syncer
from services.tickets import CorrelationStore

__all__ = ["CORRELATION_GROUP", "GROUP_ID", "SyncService"]

GROUP_ID = "schakel-sync"
CORRELATION_GROUP = "schakel-sync-correlation"

log = get_logger(__name__)


class SyncService:
    """Sync as a :class:`~services.contract.Service`.

    Adapters it reads from ``runtime.overrides``: ``sync.store`` (a
    :class:`CorrelationStore`; default one at ``settings.store_url``, opened on first use) and
    ``sync.api`` (the :class:`SupplierApi`: HTTP client, retry policy; default the real one)
    and ``sync.parking`` (the :class:`~services.parking.ParkingPolicy` of parked replies;
    default from the settings ``SCHAKEL_PARK_*``).
    After :meth:`bind`, ``syncer``, ``store`` and ``api`` are there for tests and tools;
    :meth:`stop` closes the API client and the store.
    """

    name = "sync"

    def __init__(self, *, max_records: int = 200) -> None:
        self.max_records = max_records

    def bind(self, runtime: Runtime) -> None:
        settings = runtime.settings
        store = self.store = runtime.adapter(
            "sync.store", lambda: CorrelationStore(url=settings.store_url)
        )
        api = self.api = runtime.adapter("sync.api", SupplierApi)
        parking: ParkingPolicy = runtime.adapter(
            "sync.parking", lambda: ParkingPolicy.from_settings(settings)
        )
        syncer = self.syncer = Syncer(
            runtime.config, store, runtime.publisher, api, parking=parking
        )
        gemeente_topics = sorted(gemeente_topic(g.code) for g in runtime.config.gemeenten)

        @batch_subscriber(
            runtime,
            INCIDENTS,
            CHANGES,
            *gemeente_topics,
            group_id=CORRELATION_GROUP,
            max_records=2000,
            max_partition_fetch_bytes=8 * 1024 * 1024,
        )
        async def follow_correlations(records: Batch) -> None:
            batch = read_batch(records)
            await store.record(batch.tickets, batch.routes)
            if batch.skipped:
                log.warning("correlation feed skipped unreadable events", count=batch.skipped)

        @batch_subscriber(
            runtime,
            REPLIES,
            group_id=GROUP_ID,
            max_records=self.max_records,
            max_poll_interval_ms=int(max(300.0, 2 * api.policy.max_elapsed_s + 60) * 1000),
        )
        async def sync_replies(records: Batch) -> None:
            await syncer.sync_batch(records)

    async def start(self) -> None:
        await self.syncer.start()  # the drainer of parked replies (drains after a restart)

    async def stop(self) -> None:
        await self.syncer.stop()
        await self.api.aclose()
        await self.store.close()
