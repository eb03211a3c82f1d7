"""The test doubles the suite shares: one consumed record, one in-memory publisher, and the
hub built by the composition root on FastStream's in-memory broker (flow tests).

:class:`BrokerPublisher` is the publisher for ``TestKafkaBroker`` (it publishes through the
patched broker, so the subscribers of a flow test see what a service produced); production
publishes with :class:`services.messaging.KafkaBatchPublisher` only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from faststream.kafka import KafkaBroker

from services.bootstrap import Hub, bootstrap
from services.config import SchakelConfig, Settings
from services.messaging import OutboundMessage

__all__ = ["BrokerPublisher", "FakeRecord", "MemoryPublisher", "flow_hub"]


class BrokerPublisher:
    """Publishes through a FastStream broker, message by message: the adapter for
    FastStream's in-memory ``TestKafkaBroker`` in flow tests (``bootstrap(...,
    publisher=BrokerPublisher(broker))``), where what a service produces must reach the
    test's subscribers through the patched broker."""

    def __init__(self, broker: KafkaBroker) -> None:
        self._broker = broker

    async def send_all(self, messages: Sequence[OutboundMessage]) -> None:
        pending: list[asyncio.Future[object]] = []
        for message in messages:
            sent = await self._broker.publish(
                message.value,
                message.topic,
                key=message.key,
                headers={k: v.decode("utf-8", "replace") for k, v in message.headers},
                no_confirm=True,
            )
            if isinstance(sent, asyncio.Future):
                pending.append(sent)
        if pending:
            await asyncio.gather(*pending)


@dataclass(frozen=True)
class FakeRecord:
    """Stands in for aiokafka's ConsumerRecord (what :class:`services.messaging.RawRecord`
    reads of it)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()


@dataclass
class MemoryPublisher:
    """A :class:`services.messaging.Publisher` that keeps what it was given.

    ``fail``: the next so many ``send_all`` calls raise ``error`` (default a
    ConnectionError) instead; ``release``: cleared, every ``send_all`` waits until it is set
    (acknowledgements held back).
    """

    sent: list[OutboundMessage] = field(default_factory=list)
    batches: list[list[OutboundMessage]] = field(default_factory=list)
    fail: int = 0
    error: Exception | None = None
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.release.set()

    async def send_all(self, messages: Sequence[OutboundMessage]) -> None:
        await self.release.wait()
        if self.fail or self.error is not None:
            self.fail = max(0, self.fail - 1)
            raise self.error or ConnectionError("broker said no")
        self.sent.extend(messages)
        self.batches.append(list(messages))

    @property
    def messages(self) -> list[OutboundMessage]:
        """Everything acknowledged so far, in order."""
        return self.sent

    def on(self, topic: str) -> list[OutboundMessage]:
        """What was acknowledged on ``topic``."""
        return [m for m in self.sent if m.topic == topic]


def flow_hub(
    config: SchakelConfig,
    names: Sequence[str],
    *,
    settings: Settings | None = None,
    overrides: dict[str, Any] | None = None,
) -> tuple[KafkaBroker, Hub]:
    """``names`` built by the composition root on a broker for ``TestKafkaBroker`` (never
    contacted), publishing through it (:class:`BrokerPublisher`). Subscribe collectors on
    the broker, then ``async with TestKafkaBroker(broker)``; services' ``start`` is not run
    (adapters that need opening are handed in already open, or open on first use)."""
    broker = KafkaBroker("127.0.0.1:1")
    hub = bootstrap(
        settings or Settings(normaliser_seed_window=0),
        config,
        names,
        broker=broker,
        publisher=BrokerPublisher(broker),
        overrides=overrides,
        create_topics=False,
    )
    return broker, hub
