"""Producing results and dead letters: one produce request per partition per batch.

A service hands a whole batch of :class:`OutboundMessage` to a :class:`Publisher` and waits
once for every acknowledgement; only after that may it commit its offsets. A
:class:`Dispatcher` can also hand a part of a batch to the producer and return at once, so the
service computes the next part while the broker acknowledges this one (:func:`dispatcher`).

:class:`KafkaBatchPublisher` is the publisher: it partitions by key (murmur2, as the Java
client does), builds one record batch per (topic, partition) and sends them all at once. (The
flow tests' adapter for FastStream's in-memory ``TestKafkaBroker`` is in ``tests/fakes.py``.)

The dead-letter channel keeps the original bytes, key and headers of a record, and adds
headers naming the error, its class and where the record came from (all ``schakel-dlq-*``,
named in :mod:`schemas.wire`: the regie reads them, so they are part of the wire contract).
"""

from __future__ import annotations

import asyncio
import random
import re
import struct
from collections.abc import Awaitable, Iterable, Sequence
from datetime import UTC, datetime
from typing import NamedTuple, Protocol, runtime_checkable

from aiokafka import AIOKafkaProducer
from aiokafka.producer.message_accumulator import BatchBuilder

from schemas.topics import DEADLETTER
from schemas.wire import (
    DLQ_ERROR,
    DLQ_ERROR_CLASS,
    DLQ_FAILED_AT,
    DLQ_OFFSET,
    DLQ_PARTITION,
    DLQ_PREFIX,
    DLQ_SERVICE,
    DLQ_TOPIC,
    Headers,
)
from services.config import KafkaSecurity
from services.kafka import client_options
from services.logs import get_logger
from services.observability import DEAD_LETTERS

__all__ = [
    "DLQ_ERROR",
    "DLQ_ERROR_CLASS",
    "DLQ_FAILED_AT",
    "DLQ_OFFSET",
    "DLQ_PARTITION",
    "DLQ_SERVICE",
    "DLQ_TOPIC",
    "Dispatcher",
    "Headers",
    "KafkaBatchPublisher",
    "OutboundMessage",
    "Publisher",
    "RawRecord",
    "all_acknowledged",
    "clean_reason",
    "dead_letter",
    "dispatcher",
    "key_partition",
    "reject",
]


log = get_logger(__name__)

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_REASON_MAX = 1000
MAX_BATCH_BYTES = 1024 * 1024

_M = 0x5BD1E995
_MASK = 0xFFFFFFFF
_WORDS = {n: struct.Struct(f"<{n}I") for n in range(0, 65)}


def key_partition(key: bytes, partitions: int) -> int:
    """The partition of ``key``, as the Java client's default partitioner picks it
    (murmur2, positive, modulo). The same result as aiokafka's ``murmur2`` (a test holds it
    to that) at a third of the cost: all 4-byte words are unpacked at once."""
    length = len(key)
    words = length // 4
    unpack = _WORDS.get(words) or struct.Struct(f"<{words}I")
    h = 0x9747B28C ^ length
    for k in unpack.unpack_from(key):
        k = (k * _M) & _MASK
        k ^= k >> 24
        h = ((h * _M) & _MASK) ^ ((k * _M) & _MASK)
    tail = length & 3
    if tail:
        base = length & ~3
        if tail == 3:
            h ^= key[base + 2] << 16
        if tail >= 2:
            h ^= key[base + 1] << 8
        h = ((h ^ key[base]) * _M) & _MASK
    h ^= h >> 13
    h = (h * _M) & _MASK
    h ^= h >> 15
    return (h & 0x7FFFFFFF) % partitions


class OutboundMessage(NamedTuple):
    """A record to produce, headers as Kafka carries them (name, bytes). A named tuple:
    made once per produced record, in half the time of a frozen dataclass."""

    topic: str
    value: bytes
    key: bytes | None = None
    headers: Headers = ()


class RawRecord(Protocol):
    """What a service reads of a consumed record (aiokafka's ConsumerRecord fits)."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...
    @property
    def headers(self) -> Sequence[tuple[str, bytes]]: ...


class Publisher(Protocol):
    """Sends a batch and returns once the broker acknowledged every message (or raises)."""

    async def send_all(self, messages: Sequence[OutboundMessage]) -> None: ...


@runtime_checkable
class Dispatcher(Publisher, Protocol):
    """A publisher that lets the caller go on while the broker acknowledges.

    ``await dispatch(messages)`` hands the messages to the producer, in order, and returns an
    awaitable that completes once the broker acknowledged every one of them (or raises).
    Messages of successive dispatches keep their order per partition.
    """

    async def dispatch(self, messages: Sequence[OutboundMessage]) -> Awaitable[None]: ...


class _SendingAll:
    """A :class:`Dispatcher` over a plain :class:`Publisher`: it sends and waits at once."""

    def __init__(self, publisher: Publisher) -> None:
        self._publisher = publisher

    async def send_all(self, messages: Sequence[OutboundMessage]) -> None:
        await self._publisher.send_all(messages)

    async def dispatch(self, messages: Sequence[OutboundMessage]) -> Awaitable[None]:
        await self._publisher.send_all(messages)
        return _acknowledged()


async def _acknowledged() -> None:
    return None


def dispatcher(publisher: Publisher) -> Dispatcher:
    """``publisher`` itself when it can dispatch, else one that sends and waits at once."""
    return publisher if isinstance(publisher, Dispatcher) else _SendingAll(publisher)


class KafkaBatchPublisher:
    """One record batch per (topic, partition), all sent before any is awaited.

    Raises the producer's error if any batch fails: the caller then does not commit, and its
    batch is consumed again (at-least-once; consumers downstream are idempotent on event id).
    """

    def __init__(
        self,
        bootstrap: str,
        *,
        client_id: str = "schakel",
        linger_ms: int = 2,
        security: KafkaSecurity | None = None,
    ) -> None:
        """``security``: as whom it connects (default: this process's identity)."""
        self._options: dict[str, object] = {
            **client_options(bootstrap, security),
            "client_id": client_id,
            "acks": "all",
            "enable_idempotence": True,
            "linger_ms": linger_ms,
            "max_batch_size": MAX_BATCH_BYTES,
            "max_request_size": 9 * 1024 * 1024,
            "request_timeout_ms": 30_000,
        }
        self._producer_: AIOKafkaProducer | None = None
        self._partitions: dict[str, list[int]] = {}
        self._in_order = asyncio.Lock()  # FIFO: dispatches reach the producer in call order

    @property
    def _producer(self) -> AIOKafkaProducer:
        if self._producer_ is None:
            raise RuntimeError("KafkaBatchPublisher.start() was not awaited")
        return self._producer_

    async def start(self) -> None:
        """Connect (the aiokafka producer must be created inside the running loop)."""
        if self._producer_ is None:
            self._producer_ = AIOKafkaProducer(**self._options)
            await self._producer_.start()

    async def stop(self) -> None:
        if self._producer_ is not None:
            await self._producer_.stop()
            self._producer_ = None
            self._partitions.clear()

    async def _partitions_of(self, topic: str) -> list[int]:
        known = self._partitions.get(topic)
        if known is None:
            known = sorted(await self._producer.partitions_for(topic))
            self._partitions[topic] = known
        return known

    async def send_all(self, messages: Sequence[OutboundMessage]) -> None:
        await (await self.dispatch(messages))

    async def dispatch(self, messages: Sequence[OutboundMessage]) -> Awaitable[None]:
        """Build one record batch per partition now; queue them in the producer in the
        background, after every earlier dispatch's batches (order per partition is kept).

        The result completes once the broker acknowledged every message. The caller does not
        wait while the producer still holds an earlier batch for the same partition: it can
        go on computing the next part while this one is sent.
        """
        batches = await self._record_batches(messages)
        return asyncio.ensure_future(self._send_in_order(batches))

    async def _record_batches(
        self, messages: Sequence[OutboundMessage]
    ) -> list[tuple[str, int, BatchBuilder]]:
        """Messages partitioned by key (as the Java client does) into closed record batches."""
        groups: dict[tuple[str, int], list[OutboundMessage]] = {}
        known = self._partitions
        for message in messages:
            topic = message.topic
            partitions = known.get(topic) or await self._partitions_of(topic)
            if message.key is None:
                partition = random.choice(partitions)
            else:
                partition = partitions[key_partition(message.key, len(partitions))]
            group = groups.get((topic, partition))
            if group is None:
                groups[(topic, partition)] = group = []
            group.append(message)
        batches: list[tuple[str, int, BatchBuilder]] = []
        create = self._producer.create_batch
        for (topic, partition), group in groups.items():
            batch = create()
            for message in group:
                key, value, headers = message.key, message.value, list(message.headers)
                if batch.append(key=key, value=value, timestamp=None, headers=headers) is None:
                    batch.close()
                    batches.append((topic, partition, batch))
                    batch = create()
                    batch.append(key=key, value=value, timestamp=None, headers=headers)
            batch.close()
            batches.append((topic, partition, batch))
        return batches

    async def _send_in_order(self, batches: list[tuple[str, int, BatchBuilder]]) -> None:
        pending: list[asyncio.Future[object]] = []
        async with self._in_order:
            for topic, partition, batch in batches:
                pending.append(await self._producer.send_batch(batch, topic, partition=partition))
        await all_acknowledged(pending)


async def all_acknowledged(pending: Iterable[Awaitable[object]]) -> None:
    """Wait for every acknowledgement; raise the first failure once all have settled (so
    none is left running or unretrieved)."""
    outcomes = await asyncio.gather(*pending, return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome


def clean_reason(text: str) -> str:
    """Reason text safe for a header: one line, no control characters, bounded length."""
    flat = _CONTROL.sub(" ", text).strip()
    return flat if len(flat) <= _REASON_MAX else flat[: _REASON_MAX - 1] + "…"


def reject(
    record: RawRecord, error: BaseException, reason: str, *, service: str, **context: object
) -> OutboundMessage:
    """The dead letter of a consumed ``record`` that ``service`` refuses, logged once (with
    where it came from and ``context`` such as the hub id, never its content)."""
    log.warning(
        "record dead-lettered",
        **context,
        service=service,
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        error_class=type(error).__name__,
        reason=reason[:300],
    )
    return dead_letter(
        value=record.value or b"",
        key=record.key,
        headers=record.headers,
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        error=error,
        reason=reason,
        service=service,
    )


def dead_letter(
    *,
    value: bytes,
    key: bytes | None,
    headers: Iterable[tuple[str, bytes | None]],
    topic: str,
    partition: int,
    offset: int,
    error: BaseException,
    reason: str,
    service: str,
    now: datetime | None = None,
) -> OutboundMessage:
    """The dead letter of one record: original bytes, key and headers, plus why and whence.

    A replayed record that fails again gets fresh ``schakel-dlq-*`` headers, not a second set.
    """
    DEAD_LETTERS.labels(service, type(error).__name__).inc()
    kept = [(name, raw or b"") for name, raw in headers if not name.startswith(DLQ_PREFIX)]
    kept += [
        (DLQ_ERROR, clean_reason(reason).encode()),
        (DLQ_ERROR_CLASS, type(error).__name__.encode()),
        (DLQ_TOPIC, topic.encode()),
        (DLQ_PARTITION, str(partition).encode()),
        (DLQ_OFFSET, str(offset).encode()),
        (DLQ_SERVICE, service.encode()),
        (DLQ_FAILED_AT, (now or datetime.now(UTC)).isoformat().encode()),
    ]
    return OutboundMessage(topic=DEADLETTER, value=value, key=key, headers=tuple(kept))
