"""Normaliser wiring: a thin batch subscriber on every inbound topic.

Per batch: translate everything (plain functions, no I/O), publish every result and dead
letter without waiting, wait once for all acknowledgements, then commit. If producing fails
the batch is not committed and is consumed again (``AckPolicy.NACK_ON_ERROR`` seeks back).
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from faststream import AckPolicy
from faststream.kafka import KafkaBroker

from connectors import SupplierContext, translator_for
from schemas import SupplierSystem
from schemas.topics import inbound_topic
from services.config import SchakelConfig, SupplierConfig
from services.kafka import raw_batch_decoder, raw_batch_parser
from services.messaging import Publisher
from services.normaliser.pipeline import Normaliser, SupplierRoute

__all__ = ["GROUP_ID", "build_normaliser", "register", "supplier_context"]

GROUP_ID = "schakel-normaliser"


def supplier_context(supplier: SupplierConfig, config_dir: str | None = None) -> SupplierContext:
    """What a connector may know of a supplier, from the hub configuration."""
    options: dict[str, str] = dict(supplier.options)
    if supplier.mapping:
        options["mapping"] = supplier.mapping
    if config_dir:
        options["config_dir"] = config_dir
    return SupplierContext(
        supplier=supplier.id,
        system=SupplierSystem(supplier.system),
        source=supplier.source_urn,
        value_maps=supplier.value_maps,
        timezone=ZoneInfo(supplier.timezone),
        options=options,
        schakel_marker=supplier.schakel_marker,
        schakel_accounts=frozenset(a.casefold() for a in supplier.schakel_accounts),
    )


def build_normaliser(config: SchakelConfig) -> Normaliser:
    config_dir = str(config.source_path.parent) if config.source_path else None
    routes = {
        s.id: SupplierRoute(
            translator=translator_for(supplier_context(s, config_dir)),
            source=s.source_urn,
            max_payload_bytes=s.max_payload_bytes,
        )
        for s in config.suppliers
    }
    return Normaliser(routes)


def register(
    broker: KafkaBroker,
    normaliser: Normaliser,
    publisher: Publisher,
    *,
    group_id: str = GROUP_ID,
    max_records: int = 5000,
) -> None:
    """Subscribe the normaliser to the inbound topic of every configured supplier.

    Explicit topics rather than a pattern: a new consumer group (a new deployment, a second
    hub) then reads the history of its own suppliers only, not of every topic that ever
    matched ``schakel.inbound.*``. Adding a supplier is a config change and a restart.
    """

    @broker.subscriber(
        *(inbound_topic(supplier) for supplier in sorted(normaliser.routes)),
        group_id=group_id,
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
    async def normalise_inbound(records: Any) -> None:
        result = normaliser.normalise_batch(records)
        await publisher.send_all(result.messages)
