"""Group commit for webhooks: many concurrent requests, one produce request, one wait.

Each request hands its record to :meth:`Batcher.publish` and waits. The batcher sends what
has gathered when ``max_messages`` are waiting or ``max_delay_s`` after the first of them,
with one :meth:`Publisher.send_all`, and wakes every request once the broker acknowledged the
whole batch, or fails every one of them if it did not. A request is never answered before
its record is acknowledged.
"""

from __future__ import annotations

import asyncio

from services.gateway.errors import Overloaded, WebhookNotStored
from services.logs import get_logger
from services.messaging import OutboundMessage, Publisher

__all__ = ["Batcher"]

log = get_logger(__name__)

RETRY_AFTER_S = 5


class Batcher:
    """Collects records of concurrent requests into batches for one :class:`Publisher`.

    Batches are sent as soon as they are due, without waiting for earlier ones. At most
    ``max_waiting`` records wait at a time (queued or sent but not yet acknowledged); beyond
    that :meth:`publish` raises :class:`Overloaded` at once rather than piling up memory.
    """

    def __init__(
        self,
        publisher: Publisher,
        *,
        max_messages: int = 500,
        max_delay_s: float = 0.005,
        max_waiting: int = 20_000,
        timeout_s: float = 10.0,
    ) -> None:
        if max_messages < 1 or max_delay_s < 0 or max_waiting < 1 or timeout_s <= 0:
            raise ValueError("max_messages, max_waiting and timeout_s must be positive")
        self._publisher = publisher
        self._max_messages = max_messages
        self._max_delay_s = max_delay_s
        self._max_waiting = max_waiting
        self._timeout_s = timeout_s
        self._buffer: list[tuple[OutboundMessage, asyncio.Future[None]]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._sending: set[asyncio.Task[None]] = set()
        self._waiting = 0
        self._closed = False

    @property
    def waiting(self) -> int:
        """Records queued or sent and not yet acknowledged."""
        return self._waiting

    async def publish(self, message: OutboundMessage) -> None:
        """Return once the broker acknowledged ``message``.

        Raises :class:`WebhookNotStored` if the batch failed or was not acknowledged within
        ``timeout_s`` (the record may still arrive: senders retry, consumers are idempotent),
        :class:`Overloaded` if too many records wait already.
        """
        if self._closed:
            raise WebhookNotStored("the gateway is shutting down", retry_after=RETRY_AFTER_S)
        if self._waiting >= self._max_waiting:
            raise Overloaded("too many webhooks wait for the broker", retry_after=1)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._buffer.append((message, future))
        self._waiting += 1
        if len(self._buffer) >= self._max_messages:
            self._flush()
        elif self._timer is None:
            self._timer = loop.call_later(self._max_delay_s, self._flush)
        try:
            async with asyncio.timeout(self._timeout_s):
                await future
        except TimeoutError:
            raise WebhookNotStored(
                f"the broker did not acknowledge within {self._timeout_s:g} s",
                retry_after=RETRY_AFTER_S,
            ) from None

    async def close(self) -> None:
        """Send what is queued and wait for every batch in flight; refuse new records."""
        self._closed = True
        self._flush()
        while self._sending:
            await asyncio.gather(*self._sending, return_exceptions=True)

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._buffer:
            return
        batch, self._buffer = self._buffer, []
        task = asyncio.get_running_loop().create_task(self._send(batch))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, batch: list[tuple[OutboundMessage, asyncio.Future[None]]]) -> None:
        try:
            await self._publisher.send_all([message for message, _ in batch])
        except Exception as exc:
            log.error(
                "webhooks not acknowledged by the broker",
                records=len(batch),
                topics=sorted({m.topic for m, _ in batch}),
                error=repr(exc),
            )
            for _, future in batch:
                if not future.done():
                    future.set_exception(
                        WebhookNotStored(
                            "the broker did not acknowledge the webhook",
                            retry_after=RETRY_AFTER_S,
                        )
                    )
        else:
            for _, future in batch:
                if not future.done():
                    future.set_result(None)
        finally:
            self._waiting -= len(batch)
