"""Delivery wiring: a thin batch subscriber on every ``schakel.gemeente.<GMxxxx>.v1`` topic.

Per batch: deliver everything (:class:`~services.delivery.pipeline.Deliverer`), publish the
dead letters and wait for their acknowledgements, then commit. If the store or the dead-letter
publish fails, the batch is not committed and is consumed again
(``AckPolicy.NACK_ON_ERROR``); deliveries recorded as done are skipped then.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from faststream import AckPolicy
from faststream.kafka import KafkaBroker

from schemas.topics import GEMEENTE_PATTERN
from services.delivery.pipeline import (
    Deliverer,
    DeliveryOptions,
    build_deliverer,
)
from services.kafka import raw_batch_decoder, raw_batch_parser
from services.messaging import Publisher

if TYPE_CHECKING:
    from services.runtime import Wiring

__all__ = ["GROUP_ID", "register", "register_wiring"]

GROUP_ID = "schakel-delivery"


def register(
    broker: KafkaBroker,
    deliverer: Deliverer,
    publisher: Publisher,
    *,
    group_id: str = GROUP_ID,
    pattern: str = GEMEENTE_PATTERN,
    max_records: int = 500,
) -> None:
    """Subscribe ``deliverer`` to the gemeente topics matching ``pattern``."""
    poll_interval_ms = int(max(300.0, 2 * deliverer.options.max_elapsed_s + 60) * 1000)

    @broker.subscriber(
        pattern=pattern,
        group_id=group_id,
        batch=True,
        max_records=max_records,
        batch_timeout_ms=20,
        auto_offset_reset="earliest",
        max_poll_interval_ms=poll_interval_ms,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        parser=raw_batch_parser,
        decoder=raw_batch_decoder,
    )
    async def deliver_routed(records: Any) -> None:
        result = await deliverer.deliver_batch(records)
        if result.dead_letters or result.audit:
            await publisher.send_all([*result.dead_letters, *result.audit])


def register_wiring(wiring: Wiring) -> None:
    """The ``runtime.SERVICES`` entry: store and options from the process settings.

    The deliverer opens its store and HTTP client on the first batch; its ``aclose`` is
    added to ``wiring.on_shutdown`` when the wiring has such a list of shutdown hooks.
    """
    settings = wiring.settings
    deliverer = build_deliverer(
        wiring.config,
        store=settings.store_url,
        options=DeliveryOptions.from_settings(settings),
    )
    register(wiring.broker, deliverer, wiring.publisher, group_id=GROUP_ID + wiring.group_suffix)
    wiring.on_shutdown.append(deliverer.aclose)
