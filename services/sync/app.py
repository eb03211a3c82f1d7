"""Sync wiring: two thin batch subscribers on one broker.

* the **correlation feed** (group ``schakel-sync-correlation``) follows
  ``schakel.incidents.v1``, ``schakel.changes.v1`` and the configured gemeenten's
  ``schakel.gemeente.<GMxxxx>.v1``, and stores correlations and routes
  (:mod:`services.sync.correlate`), then commits;
* the **sync** (group ``schakel-sync``) reads ``schakel.replies.v1`` and applies the replies
  (:class:`~services.sync.pipeline.Syncer`), then commits.

Both use ``AckPolicy.NACK_ON_ERROR``: if the store or the broker fails, the batch is consumed
again; both are idempotent (versions, routes, reply ids).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from faststream import AckPolicy

from schemas.topics import CHANGES, INCIDENTS, REPLIES, gemeente_topic
from services.config import Settings, get_settings
from services.kafka import raw_batch_decoder, raw_batch_parser
from services.logs import get_logger
from services.sync.correlate import read_batch
from services.sync.pipeline import Syncer
from services.sync.store import CorrelationStore
from services.sync.supplier_api import RetryPolicy, SupplierApi

if TYPE_CHECKING:
    from services.runtime import Wiring

__all__ = ["CORRELATION_GROUP", "GROUP_ID", "SyncService", "register", "register_wiring"]

GROUP_ID = "schakel-sync"
CORRELATION_GROUP = "schakel-sync-correlation"

log = get_logger(__name__)


@dataclass(frozen=True)
class SyncService:
    """What :func:`register` wired: for the app's shutdown, tests and tools."""

    syncer: Syncer
    store: CorrelationStore
    api: SupplierApi

    async def aclose(self) -> None:
        await self.api.aclose()
        await self.store.close()


def register(
    wiring: Wiring,
    *,
    settings: Settings | None = None,
    store: CorrelationStore | None = None,
    api: SupplierApi | None = None,
    policy: RetryPolicy | None = None,
    max_records: int = 200,
) -> SyncService:
    """Subscribe the correlation feed and the sync on ``wiring.broker``.

    The store defaults to ``settings.store_url`` (default: the wiring's settings, else the
    process settings), opened on first use; ``api`` to a :class:`SupplierApi` with
    ``policy``. :meth:`SyncService.aclose` is left in ``wiring.on_shutdown`` when the wiring
    has such a list.
    """
    settings = settings or getattr(wiring, "settings", None) or get_settings()
    store = store or CorrelationStore(url=settings.store_url)
    api = api or SupplierApi(policy=policy)
    syncer = Syncer(wiring.config, store, wiring.publisher, api)
    broker = wiring.broker
    poll_interval_ms = int(max(300.0, 2 * api.policy.max_elapsed_s + 60) * 1000)
    gemeente_topics = sorted(gemeente_topic(g.code) for g in wiring.config.gemeenten)

    @broker.subscriber(
        INCIDENTS,
        CHANGES,
        *gemeente_topics,
        group_id=CORRELATION_GROUP + wiring.group_suffix,
        batch=True,
        max_records=2000,
        batch_timeout_ms=20,
        max_partition_fetch_bytes=8 * 1024 * 1024,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        parser=raw_batch_parser,
        decoder=raw_batch_decoder,
    )
    async def follow_correlations(records: Any) -> None:
        batch = read_batch(records)
        await store.record(batch.tickets, batch.routes)
        if batch.skipped:
            log.warning("correlation feed skipped unreadable events", count=batch.skipped)

    @broker.subscriber(
        REPLIES,
        group_id=GROUP_ID + wiring.group_suffix,
        batch=True,
        max_records=max_records,
        batch_timeout_ms=20,
        auto_offset_reset="earliest",
        max_poll_interval_ms=poll_interval_ms,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        parser=raw_batch_parser,
        decoder=raw_batch_decoder,
    )
    async def sync_replies(records: Any) -> None:
        await syncer.sync_batch(records)

    service = SyncService(syncer, store, api)
    hooks = getattr(wiring, "on_shutdown", None)
    if isinstance(hooks, list):
        hooks.append(service.aclose)
    return service


def register_wiring(wiring: Wiring) -> None:
    """The ``runtime.SERVICES`` entry: everything from the wiring's settings."""
    register(wiring)
