"""The Service contract: what every service implements, and what the composition root gives it.

A leaf module: it imports no service package, and every service package may import it.

Every service, a Kafka consumer (normaliser, router, delivery, sync, sla, feed, changes) or an
HTTP service (gateway, replies, cockpit), is an object with a ``name`` and three steps that
the composition root (:mod:`services.bootstrap`) calls in this order:

1. ``bind(runtime)``: declare the subscribers on ``runtime.broker`` (with
   :func:`batch_subscriber`), keep what it needs of the runtime. No I/O.
2. ``await start()``: after the hub's topics exist and the one producer runs, before any
   subscriber consumes: open stores, seed state, start HTTP servers or timers.
3. ``await stop()``: after the subscribers stopped: close what ``start`` opened.

>>> class Echo:                                   # doctest: +SKIP
...     name = "echo"
...     def bind(self, runtime: Runtime) -> None:
...         @batch_subscriber(runtime, "schakel.incidents.v1", group_id="schakel-echo")
...         async def handle(records: Batch) -> None:
...             await runtime.publisher.send_all([...])
...     async def start(self) -> None: ...
...     async def stop(self) -> None: ...
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar, cast, runtime_checkable

from aiokafka import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker

from services.config import SchakelConfig, Settings
from services.kafka import raw_batch_decoder, raw_batch_parser
from services.messaging import Publisher
from services.observability import HEALTH

__all__ = [
    "Batch",
    "BatchHandler",
    "Clock",
    "Runtime",
    "Service",
    "batch_subscriber",
    "utc_now",
]

_T = TypeVar("_T")

#: a consumed batch: aiokafka's records, untouched (no decoding by the framework)
Batch = Sequence[ConsumerRecord[bytes, bytes]]
BatchHandler = Callable[[Batch], Awaitable[None]]
#: the time now, timezone-aware UTC; injectable so tests and replays control time
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The wall clock, in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Runtime:
    """What the composition root hands every service: one broker, one producer, the process
    settings, the hub config, the clock, and the suffix that keeps test and benchmark
    consumer groups apart from production ones."""

    broker: KafkaBroker
    publisher: Publisher
    settings: Settings
    config: SchakelConfig
    clock: Clock = utc_now
    group_suffix: str = ""
    #: adapters a test or tool hands in by name (a store, an HTTP transport, a fake API);
    #: each service documents the names it reads
    overrides: dict[str, Any] = field(default_factory=dict)

    def group(self, base: str | None) -> str | None:
        """The consumer group id for ``base`` in this runtime (None stays None: no group)."""
        return None if base is None else base + self.group_suffix

    def adapter(self, name: str, build: Callable[[], _T]) -> _T:
        """The adapter handed in as ``name`` (``overrides``), else the one ``build()`` makes."""
        if name in self.overrides:
            return cast("_T", self.overrides[name])
        return build()


@runtime_checkable
class Service(Protocol):
    """One service of the hub; see the module docstring for the order of the calls."""

    name: str

    def bind(self, runtime: Runtime) -> None: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


def batch_subscriber(
    runtime: Runtime,
    *topics: str,
    group_id: str | None,
    pattern: str | None = None,
    max_records: int = 500,
    batch_timeout_ms: int = 20,
    auto_offset_reset: str = "earliest",
    **kafka_options: Any,
) -> Callable[[BatchHandler], BatchHandler]:
    """Declare a batch subscriber with the hub's settings, for a typed handler.

    The hub's settings: batches of raw records (no framework decoding, hostile headers
    survive), reading from the earliest offset for a new group, and
    ``AckPolicy.NACK_ON_ERROR``: the offsets are committed only when the handler returns,
    so a handler returns only once everything it produced is acknowledged; when it raises,
    the batch is consumed again. ``group_id`` is the base name; the runtime's suffix is added.
    ``group_id=None`` reads without a consumer group (every process reads the whole topic,
    nothing is committed: a feed that rebuilds state at every start).
    Other aiokafka consumer options (``max_poll_interval_ms``, fetch sizes) pass through.
    """

    def declare(handler: BatchHandler) -> BatchHandler:
        options: dict[str, Any] = {
            "group_id": runtime.group(group_id),
            "batch": True,
            "max_records": max_records,
            "batch_timeout_ms": batch_timeout_ms,
            "auto_offset_reset": auto_offset_reset,
            "parser": raw_batch_parser,
            "decoder": raw_batch_decoder,
            **kafka_options,
        }
        if group_id is not None:  # without a group there is nothing to commit
            options["ack_policy"] = AckPolicy.NACK_ON_ERROR
        if pattern:
            options["pattern"] = pattern
        group = options["group_id"]

        async def consume(records: Any) -> None:
            # FastStream validates a handler's arguments against their annotations (and
            # follows __wrapped__ to find them): typed Any and not wrapped with
            # functools.wraps, the raw records are handed over as they are, unchecked
            await handler(records)
            HEALTH.progressed(group)  # for /readyz: this group is not stuck

        consume.__name__ = consume.__qualname__ = handler.__name__  # its name in the logs
        runtime.broker.subscriber(*topics, **options)(consume)
        return handler

    return declare
