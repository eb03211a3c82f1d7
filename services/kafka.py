"""Kafka wiring shared by the services: the broker, topic creation, raw batch consumption.

One place builds the FastStream broker for every service, with the producer settings the
delivery guarantees need (``acks=all``, idempotent producer, large enough requests for dead
letters of oversized input).

Every Kafka client of a process (the broker's consumers and producer, the batch publisher,
admin clients, the tools' readers) connects as the process's identity:
:func:`client_options` gives aiokafka's keyword arguments for it, from the settings
(``SCHAKEL_KAFKA_SECURITY``, ``_USERNAME``, ``_PASSWORD_ENV``, ``_CA_FILE``).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiokafka import ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, KafkaError, TopicAlreadyExistsError
from faststream.kafka import KafkaBroker
from faststream.message import StreamMessage
from faststream.security import BaseSecurity, SASLScram256, SASLScram512
from tenacity import (
    AsyncRetrying,
    RetryError,
    retry_if_exception_type,
    stop_after_delay,
    wait_exponential_jitter,
)

from schemas.topics import TopicSpec
from services.config import KafkaSecurity, get_settings
from services.errors import BrokerUnavailable
from services.logs import get_logger
from services.observability import broker_middleware

__all__ = [
    "FRAMEWORK_LOG",
    "MAX_REQUEST_BYTES",
    "broker_security",
    "build_broker",
    "client_options",
    "ensure_topics",
    "raw_batch_decoder",
    "raw_batch_parser",
    "wait_for_broker",
]

MAX_REQUEST_BYTES = 9 * 1024 * 1024
log = get_logger(__name__)


#: FastStream's own lines, through the root logger (structlog: JSON in production, console in
#: the demo) instead of FastStream's coloured handler
FRAMEWORK_LOG = logging.getLogger("schakel.faststream")


class _SupervisorChatter(logging.Filter):
    """FastStream's subscriber supervisor announces every finished consume task at INFO
    ("callback for Task-N is being executed..."): one line per subscriber at each stop."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().endswith("is being executed...")


FRAMEWORK_LOG.addFilter(_SupervisorChatter())


def client_options(bootstrap: str, security: KafkaSecurity | None = None) -> dict[str, Any]:
    """aiokafka's keyword arguments to reach ``bootstrap`` as ``security`` (default: as this
    process, from its settings): ``bootstrap_servers``, ``security_protocol``, SASL login,
    TLS context."""
    chosen = security if security is not None else get_settings().kafka_security()
    return {"bootstrap_servers": bootstrap, **chosen.client_options()}


def broker_security(security: KafkaSecurity | None = None) -> BaseSecurity | None:
    """The same identity as FastStream's broker takes it (None for PLAINTEXT)."""
    chosen = security if security is not None else get_settings().kafka_security()
    context = chosen.ssl_context()
    if chosen.sasl:
        kind = SASLScram512 if chosen.mechanism == "SCRAM-SHA-512" else SASLScram256
        return kind(
            chosen.username or "", chosen.password or "", ssl_context=context, use_ssl=chosen.tls
        )
    if chosen.tls:
        return BaseSecurity(ssl_context=context, use_ssl=True)
    return None


def build_broker(
    bootstrap: str,
    *,
    client_id: str = "schakel",
    security: KafkaSecurity | None = None,
    **options: Any,
) -> KafkaBroker:
    """The FastStream broker every service uses, connected as ``security`` (default: this
    process's identity)."""
    return KafkaBroker(
        bootstrap,
        security=broker_security(security),
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        max_request_size=MAX_REQUEST_BYTES,
        request_timeout_ms=30_000,
        metadata_max_age_ms=10_000,  # pattern subscriptions see new supplier topics soon
        graceful_timeout=15.0,
        log_level=logging.DEBUG,  # FastStream logs every batch; keep that off the INFO stream
        logger=FRAMEWORK_LOG,
        middlewares=(broker_middleware(),),  # faststream_* consume metrics on /metrics
        **options,
    )


async def wait_for_broker(
    bootstrap: str, *, timeout_s: float = 60.0, security: KafkaSecurity | None = None
) -> None:
    """Wait for Kafka with exponential backoff; BrokerUnavailable with a readable message."""
    attempt = 0
    try:
        async for try_ in AsyncRetrying(
            retry=retry_if_exception_type((KafkaError, OSError)),
            wait=wait_exponential_jitter(multiplier=0.5, max=8.0),
            stop=stop_after_delay(timeout_s),
        ):
            with try_:
                attempt += 1
                admin = AIOKafkaAdminClient(
                    **client_options(bootstrap, security), request_timeout_ms=5000
                )
                try:
                    await admin.start()
                finally:
                    await admin.close()
                if attempt > 1:
                    log.info("kafka reachable", bootstrap=bootstrap, attempts=attempt)
                return
            log.warning("kafka not reachable yet, retrying", bootstrap=bootstrap, attempt=attempt)
    except RetryError as exc:
        cause = exc.last_attempt.exception()
        raise BrokerUnavailable(
            f"Kafka at {bootstrap} did not answer within {timeout_s:.0f}s ({cause!r}). "
            "Start it with 'make kafka-up' or set SCHAKEL_KAFKA_BOOTSTRAP; on a secure broker, "
            "a refused login looks the same (check SCHAKEL_KAFKA_USERNAME and the password)."
        ) from None


#: CreateTopics error codes: the topic exists (a race, or one we may not describe)
_TOPIC_EXISTS = 36
#: not allowed to create it: on a secure broker the admin creates topics (``schakel topics``)
_NOT_AUTHORISED = (29, 31)


async def ensure_topics(
    bootstrap: str,
    specs: Sequence[TopicSpec],
    *,
    wait_s: float = 60.0,
    security: KafkaSecurity | None = None,
) -> list[str]:
    """Create the topics that do not exist yet, with their partitions and settings.

    On a secure broker a service's principal may neither see nor create most topics (least
    privilege: the admin creates them with ``schakel topics``); those are logged once and
    left alone. Any other refusal raises.
    """
    await wait_for_broker(bootstrap, timeout_s=wait_s, security=security)
    admin = AIOKafkaAdminClient(**client_options(bootstrap, security))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [s for s in specs if s.name not in existing]
        if not missing:
            return []
        new = [
            NewTopic(
                s.name, num_partitions=s.partitions, replication_factor=1, topic_configs=s.config
            )
            for s in missing
        ]
        try:
            response = await admin.create_topics(new)
        except TopicAlreadyExistsError:
            response = None  # another process won the race; the topic is there
        except KafkaConnectionError as exc:
            raise BrokerUnavailable(f"creating topics on {bootstrap} failed: {exc}") from exc
        refused = _creation_refused(response)
        created = [s.name for s in missing if s.name not in refused]
        if refused:
            log.warning(
                "not allowed to create topics; the admin creates them (schakel topics)",
                topics=sorted(refused),
            )
        if created:
            log.info("topics created", topics=created)
            await _await_metadata(admin, created)
        return created
    finally:
        await admin.close()


def _creation_refused(response: Any) -> set[str]:
    """Topics the CreateTopics response refused for lack of rights; raises on other errors
    than "already exists"."""
    refused: set[str] = set()
    for entry in getattr(response, "topic_errors", None) or ():
        name, code = entry[0], entry[1]
        if code in _NOT_AUTHORISED:
            refused.add(name)
        elif code not in (0, _TOPIC_EXISTS):
            raise BrokerUnavailable(f"creating topic {name} failed with Kafka error {code}")
    return refused


async def _await_metadata(admin: AIOKafkaAdminClient, names: list[str]) -> None:
    """Wait (up to ~10 s) until new topics are known and every partition has a leader, so
    the first produce and fetch requests do not meet NotLeaderForPartition."""
    for _ in range(100):
        with contextlib.suppress(KafkaError):
            described = await admin.describe_topics(names)
            if len(described) == len(names) and all(
                t["error_code"] == 0
                and t["partitions"]
                and all(p["leader"] >= 0 for p in t["partitions"])
                for t in described
            ):
                return
        await asyncio.sleep(0.1)


ParsedBatch = StreamMessage[tuple[ConsumerRecord[bytes, bytes], ...]]


async def raw_batch_parser(
    records: tuple[ConsumerRecord[bytes, bytes], ...],
    original: Callable[[tuple[ConsumerRecord[bytes, bytes], ...]], Awaitable[ParsedBatch]],
) -> ParsedBatch:
    """FastStream's batch parser, minus what breaks on hostile input.

    The stock parser decodes every header as UTF-8 (one bad header would fail the whole batch
    forever) and keeps per-record header dicts nobody reads. We give it header-less stand-ins
    for the first and last record (all it needs for the message id), then put the untouched
    records back as both raw message and body.
    """
    first, last = records[0], records[-1]
    stand_ins = (dataclasses.replace(first, headers=()), dataclasses.replace(last, headers=()))
    message = await original(stand_ins)
    message.raw_message = records
    message.body = records  # type: ignore[assignment]
    message.headers = {}
    message.batch_headers = []
    return message


async def raw_batch_decoder(
    message: ParsedBatch, _original: Callable[[ParsedBatch], Awaitable[Any]]
) -> tuple[ConsumerRecord[bytes, bytes], ...]:
    """No JSON decoding by the framework: handlers get the records and decode themselves."""
    return message.raw_message
