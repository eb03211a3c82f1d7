"""The delivery service: a thin batch subscriber on every ``schakel.gemeente.<GMxxxx>.v1`` topic.

Per batch: deliver everything (:class:`~services.delivery.deliverer.Deliverer`; what fails for
a transient reason is parked in the store, :mod:`services.parking`), publish the dead letters
and audit events and wait for their acknowledgements, then commit. A drainer task retries the
parked deliveries from :meth:`DeliveryService.start` until :meth:`DeliveryService.stop`.
If the store or that publish fails, the batch is not committed and is consumed again
(``AckPolicy.NACK_ON_ERROR``); deliveries recorded as done are skipped then.
"""

from __future__ import annotations

from schemas.topics import GEMEENTE_PATTERN
from services.contract import Batch, Runtime, batch_subscriber
from services.delivery.deliverer import ChannelFactory, Deliverer, DeliveryOptions
from services.delivery.store import DeliveryStore

__all__ = ["GROUP_ID", "DeliveryService"]

GROUP_ID = "schakel-delivery"


class DeliveryService:
    """Delivery as a :class:`~services.contract.Service`.

    Adapters it reads from ``runtime.overrides``: ``delivery.store`` (an open
    :class:`DeliveryStore` or a URL; default ``settings.store_url``), ``delivery.channels``
    (a :class:`ChannelFactory`: the sinks and their HTTP clients; default the real ones),
    ``delivery.options`` (:class:`DeliveryOptions`; default from the settings) and
    ``delivery.pattern`` (the topics it reads; default every gemeente topic). After
    :meth:`bind`, ``deliverer`` is there for tests and tools.
    """

    name = "delivery"

    def __init__(self, *, max_records: int = 500) -> None:
        self.max_records = max_records

    def bind(self, runtime: Runtime) -> None:
        settings = runtime.settings
        store: DeliveryStore | str = runtime.adapter("delivery.store", lambda: settings.store_url)
        channels: ChannelFactory | None = runtime.adapter("delivery.channels", lambda: None)
        options: DeliveryOptions = runtime.adapter(
            "delivery.options", lambda: DeliveryOptions.from_settings(settings)
        )
        pattern: str = runtime.adapter("delivery.pattern", lambda: GEMEENTE_PATTERN)
        deliverer = self.deliverer = Deliverer(
            runtime.config.gemeenten, store, channels=channels, options=options
        )
        publisher = runtime.publisher
        deliverer.use_publisher(publisher)  # for what the drainer of parked work ends with

        @batch_subscriber(
            runtime,
            group_id=GROUP_ID,
            pattern=pattern,
            max_records=self.max_records,
            max_poll_interval_ms=int(max(300.0, 2 * options.max_elapsed_s + 60) * 1000),
        )
        async def deliver_routed(records: Batch) -> None:
            result = await deliverer.deliver_batch(records)
            if result.dead_letters or result.audit:
                await publisher.send_all([*result.dead_letters, *result.audit])

    async def start(self) -> None:
        # the store, the sinks (else on the first batch) and the drainer of parked work, so
        # that what was parked before a restart drains without new traffic too
        await self.deliverer.start()

    async def stop(self) -> None:
        await self.deliverer.aclose()
