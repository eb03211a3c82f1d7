"""The normaliser service: a thin batch subscriber on every inbound topic.

Per batch (:func:`process_batch`): translate a chunk (plain functions, no I/O), hand its
results and dead letters to the producer without waiting, translate the next chunk while the
broker acknowledges, wait once at the end for every acknowledgement, then commit. If
producing fails the idempotency gate forgets the batch, the batch is not committed and is
consumed again (``AckPolicy.NACK_ON_ERROR`` seeks back) and emitted again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence

from connectors import translator_for
from schemas.topics import inbound_topic
from services.config import SchakelConfig, supplier_contexts
from services.contract import Batch, Runtime, batch_subscriber
from services.messaging import Dispatcher, RawRecord, all_acknowledged, dispatcher
from services.normaliser.pipeline import Normaliser, SupplierRoute
from services.normaliser.seed import seed_gate
from services.observability import IDEMPOTENCY_VERDICTS
from services.privacy import Minimiser, PrivacyPolicy

__all__ = [
    "CHUNK",
    "GROUP_ID",
    "MAX_RECORDS",
    "NormaliserService",
    "build_normaliser",
    "process_batch",
]

GROUP_ID = "schakel-normaliser"
#: records per consumed batch
MAX_RECORDS = 5000
#: records translated before their results go to the producer (a batch holds up to 5,000)
CHUNK = 1000


def build_normaliser(config: SchakelConfig) -> Normaliser:
    contexts = supplier_contexts(config)
    routes = {
        s.id: SupplierRoute(
            translator=translator_for(contexts[s.id]),
            source=s.source_urn,
            max_payload_bytes=s.max_payload_bytes,
        )
        for s in config.suppliers
    }
    return Normaliser(routes, minimiser=Minimiser(privacy_policy(config)))


async def process_batch(
    normaliser: Normaliser,
    publisher: Dispatcher,
    records: Sequence[RawRecord],
    *,
    chunk: int = CHUNK,
) -> None:
    """Normalise and publish one consumed batch; returns once every result is acknowledged.

    Chunk by chunk, so the broker acknowledges one chunk while the next is translated (the
    producer's sender gets the loop between chunks). Per-partition order is kept: chunks are
    dispatched in order. On any failure the gate rolls back and the error propagates, so the
    batch is neither committed nor remembered as emitted.
    """
    gate = normaliser.gate
    gate.begin()
    acknowledgements: list[Awaitable[None]] = []
    try:
        for start in range(0, len(records), chunk):
            result = normaliser.normalise_batch(records[start : start + chunk])
            acknowledgements.append(await publisher.dispatch(result.messages))
            _count_verdicts(result.duplicates, result.stale, result.echoes)
            await asyncio.sleep(0)  # the producer writes this chunk's requests now
        await all_acknowledged(acknowledgements)
    except BaseException:
        gate.rollback()
        raise
    gate.commit()


_VERDICTS = tuple(IDEMPOTENCY_VERDICTS.labels(v) for v in ("duplicate", "stale", "echo"))


def _count_verdicts(*counts: int) -> None:
    """The idempotent consumer's verdicts of one chunk, on /metrics."""
    for counter, count in zip(_VERDICTS, counts, strict=True):
        if count:
            counter.inc(count)


class NormaliserService:
    """The normaliser as a :class:`~services.contract.Service`: one batch subscriber on the
    inbound topic of every configured supplier; at start, the idempotency gate is seeded from
    the tail of the normalised topics (``settings.normaliser_seed_window`` records per
    partition; 0: start empty).

    Explicit topics rather than a pattern: a new consumer group (a new deployment, a second
    hub) then reads the history of its own suppliers only, not of every topic that ever
    matched ``schakel.inbound.*``. Adding a supplier is a config change and a restart.
    """

    name = "normaliser"

    def __init__(self) -> None:
        self.normaliser: Normaliser | None = None
        self._runtime: Runtime | None = None

    def bind(self, runtime: Runtime) -> None:
        self._runtime = runtime
        normaliser = self.normaliser = build_normaliser(runtime.config)
        sender = dispatcher(runtime.publisher)

        @batch_subscriber(
            runtime,
            *(inbound_topic(supplier) for supplier in sorted(normaliser.routes)),
            group_id=GROUP_ID,
            max_records=MAX_RECORDS,
            max_partition_fetch_bytes=8 * 1024 * 1024,
            fetch_max_bytes=50 * 1024 * 1024,
        )
        async def normalise_inbound(records: Batch) -> None:
            await process_batch(normaliser, sender, records)

    async def start(self) -> None:
        runtime, normaliser = self._runtime, self.normaliser
        assert runtime is not None and normaliser is not None, "bind() first"
        window = runtime.settings.normaliser_seed_window
        if window:
            await seed_gate(runtime.settings.kafka_bootstrap, normaliser.gate, window=window)

    async def stop(self) -> None:
        return None


def privacy_policy(config: SchakelConfig) -> PrivacyPolicy:
    """The hub's personal-data policy (config ``privacy``; every class masked by default)."""
    p = config.privacy
    return PrivacyPolicy(email=p.email, phone=p.phone, iban=p.iban, bsn=p.bsn)
