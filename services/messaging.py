"""Producing results and dead letters: one broker round trip per batch.

:func:`publish_all` hands every message of a batch to the producer without waiting, then
waits once for all acknowledgements; only after that may the caller commit offsets.

The dead-letter channel keeps the original bytes, key and headers of a record, and adds
headers naming the error, its class and where the record came from (all ``schakel-dlq-*``).
"""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from faststream.kafka import KafkaBroker

from schemas.topics import DEADLETTER

__all__ = [
    "DLQ_ERROR",
    "DLQ_ERROR_CLASS",
    "DLQ_FAILED_AT",
    "DLQ_OFFSET",
    "DLQ_PARTITION",
    "DLQ_SERVICE",
    "DLQ_TOPIC",
    "OutboundMessage",
    "dead_letter",
    "publish_all",
]

DLQ_ERROR = "schakel-dlq-error"
DLQ_ERROR_CLASS = "schakel-dlq-error-class"
DLQ_TOPIC = "schakel-dlq-topic"
DLQ_PARTITION = "schakel-dlq-partition"
DLQ_OFFSET = "schakel-dlq-offset"
DLQ_SERVICE = "schakel-dlq-service"
DLQ_FAILED_AT = "schakel-dlq-failed-at"

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_REASON_MAX = 1000


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """A record to produce. ``headers`` are text, as the hub's producer sends them."""

    topic: str
    value: bytes
    key: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


async def publish_all(broker: KafkaBroker, messages: Sequence[OutboundMessage]) -> int:
    """Send all ``messages`` and wait for every acknowledgement; returns how many were sent.

    Raises the producer's error if any send fails: the caller then does not commit, and the
    batch is consumed again (at-least-once; consumers downstream are idempotent on event id).
    """
    pending: list[asyncio.Future[object]] = []
    for message in messages:
        sent = await broker.publish(
            message.value,
            message.topic,
            key=message.key,
            headers=dict(message.headers),
            no_confirm=True,
        )
        if isinstance(sent, asyncio.Future):
            pending.append(sent)
    if pending:
        await asyncio.gather(*pending)
    return len(messages)


def clean_reason(text: str) -> str:
    """Reason text safe for a header: one line, no control characters, bounded length."""
    flat = _CONTROL.sub(" ", text).strip()
    return flat if len(flat) <= _REASON_MAX else flat[: _REASON_MAX - 1] + "…"


def dead_letter(
    *,
    value: bytes,
    key: bytes | None,
    headers: Iterable[tuple[str, bytes]],
    topic: str,
    partition: int,
    offset: int,
    error: BaseException,
    reason: str,
    service: str,
    now: datetime | None = None,
) -> OutboundMessage:
    """The dead letter of one record: original bytes, key and headers, plus why and whence."""
    kept: dict[str, str] = {}
    for name, raw in headers:
        if name.startswith("schakel-dlq-"):
            continue  # a replayed record failing again gets fresh dead-letter headers
        try:
            kept[name] = raw.decode("utf-8") if raw is not None else ""
        except UnicodeDecodeError:
            kept[f"{name}.base64"] = base64.b64encode(raw).decode("ascii")
    kept.update(
        {
            DLQ_ERROR: clean_reason(reason),
            DLQ_ERROR_CLASS: type(error).__name__,
            DLQ_TOPIC: topic,
            DLQ_PARTITION: str(partition),
            DLQ_OFFSET: str(offset),
            DLQ_SERVICE: service,
            DLQ_FAILED_AT: (now or datetime.now(UTC)).isoformat(),
        }
    )
    return OutboundMessage(topic=DEADLETTER, value=value, key=key, headers=kept)
