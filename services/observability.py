"""Metrics and health of a hub process: what a platform team scrapes and probes.

One leaf module, so every service records into the same place:

* **Metrics** (Prometheus, the process's default registry, served on ``/metrics``):
  FastStream's Prometheus middleware on every broker (messages consumed and published, batch
  durations; ``faststream_*``), and the hub's own ``schakel_*`` series below: dead letters,
  idempotency verdicts, deliveries, supplier API calls, gateway requests, SLA events, and
  consumer lag per group, topic and partition.
* **Health**: ``/livez`` (the process answers: its event loop runs) and ``/readyz`` (the hub
  has started; every consumer is connected and has joined its group; and none is stuck:
  no consumer has lag while it finished no batch for ``stuck_after_s``).

The root (:mod:`services.bootstrap`) serves both on ``SCHAKEL_OPS_PORT`` beside the services
(:func:`serving_ops`); the Kubernetes manifests use them as probes and scrape targets.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import weakref
from collections.abc import AsyncIterator, Sequence
from typing import Any

import orjson
from fastapi import FastAPI, Response
from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus.provider import BaseKafkaMetricsSettingsProvider
from faststream.message import StreamMessage
from faststream.prometheus import ConsumeAttrs
from faststream.prometheus.middleware import PrometheusMiddleware
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, generate_latest

from services.http import listening
from services.logs import get_logger

__all__ = [
    "CONSUMER_LAG",
    "DEAD_LETTERS",
    "DELIVERIES",
    "GATEWAY_REQUESTS",
    "HEALTH",
    "IDEMPOTENCY_VERDICTS",
    "SLA_EVENTS",
    "SUPPLIER_CALLS",
    "Health",
    "broker_middleware",
    "ops_app",
    "serving_ops",
]

log = get_logger(__name__)

DEAD_LETTERS = Counter(
    "schakel_dead_letters",
    "Records sent to the dead-letter topic, by the service that refused them and why.",
    ["service", "error_class"],
)
IDEMPOTENCY_VERDICTS = Counter(
    "schakel_idempotency_verdicts",
    "Supplier events not emitted again: duplicate, stale (older than the newest seen) or "
    "echo (a change Schakel itself wrote).",
    ["verdict"],
)
DELIVERIES = Counter(
    "schakel_deliveries",
    "Deliveries to the FB teams' channels, by channel type and outcome.",
    ["channel", "outcome"],
)
SUPPLIER_CALLS = Counter(
    "schakel_supplier_calls",
    "Calls to a supplier's API (eBonding), by supplier and outcome.",
    ["supplier", "outcome"],
)
GATEWAY_REQUESTS = Counter(
    "schakel_gateway_requests",
    "Webhooks received by the gateway, by supplier and HTTP status.",
    ["supplier", "status"],
)
SLA_EVENTS = Counter(
    "schakel_sla_events",
    "SLA events published (warnings, breaches, ...), by supplier and kind.",
    ["supplier", "kind"],
)
CONSUMER_LAG = Gauge(
    "schakel_consumer_lag",
    "Records on a partition not yet committed by the consumer group (end offset - committed).",
    ["group", "topic", "partition"],
)


class _BatchSettings(BaseKafkaMetricsSettingsProvider[Sequence[Any]]):
    """FastStream's Kafka metrics for the hub's raw batches: the body is the records
    themselves (services.kafka.raw_batch_parser), so size is the sum of their values."""

    __slots__ = ()

    def get_consume_attrs_from_message(self, msg: StreamMessage[Sequence[Any]]) -> ConsumeAttrs:
        records = msg.raw_message
        first = records[0]
        return {
            "destination_name": first.topic,
            "message_size": sum(len(r.value or b"") for r in records),
            "messages_count": len(records),
        }


def _settings_provider(msg: object) -> _BatchSettings:
    return _BatchSettings()


_MIDDLEWARE: list[PrometheusMiddleware[Any, Any]] = []


def broker_middleware() -> PrometheusMiddleware[Any, Any]:
    """FastStream's Prometheus middleware, one per process (its series are registered once)."""
    if not _MIDDLEWARE:
        _MIDDLEWARE.append(
            PrometheusMiddleware(
                settings_provider_factory=_settings_provider,  # type: ignore[arg-type]
                registry=REGISTRY,
                app_name="schakel",
            )
        )
    return _MIDDLEWARE[0]


class Health:
    """What ``/readyz`` decides on: started, consumers joined, nothing stuck."""

    def __init__(self, *, stuck_after_s: float = 300.0) -> None:
        self.stuck_after_s = stuck_after_s
        self.started = False
        self._brokers: weakref.WeakSet[KafkaBroker] = weakref.WeakSet()
        self._progress: dict[str, float] = {}
        self._lag: dict[str, int] = {}
        self._since = time.monotonic()

    def watch(self, broker: KafkaBroker) -> None:
        self._brokers.add(broker)

    def progressed(self, group: str, now: float | None = None) -> None:
        """A batch of ``group`` was handled (its offsets are being committed)."""
        self._progress[group] = time.monotonic() if now is None else now

    def _consumers(self) -> list[tuple[str, Any]]:
        found = []
        for broker in list(self._brokers):
            for sub in broker.subscribers:
                group = getattr(sub, "group_id", None)
                if group:
                    found.append((group, getattr(sub, "consumer", None)))
        return found

    def problems(self, now: float | None = None) -> list[str]:
        """Why the process is not ready; empty when it is."""
        now = time.monotonic() if now is None else now
        if not self.started:
            return ["starting"]
        problems = []
        for group, consumer in self._consumers():
            if consumer is None:
                problems.append(f"{group}: consumer not running")
                continue
            joined = getattr(getattr(consumer, "_coordinator", None), "generation", -1)
            if not consumer.assignment() and (joined is None or joined < 0):
                problems.append(f"{group}: not joined to its group yet")
        for group, lag in self._lag.items():
            idle = now - self._progress.get(group, self._since)
            if lag > 0 and idle > self.stuck_after_s:
                problems.append(f"{group}: {lag} records waiting, no batch done for {idle:.0f}s")
        return problems

    def drained(self) -> bool:
        """Started, every consumer joined, and the last :meth:`measure_lag` found each group
        committed up to the end of every partition it is assigned."""
        groups = {group for group, _ in self._consumers()}
        return (
            not self.problems()
            and groups <= self._lag.keys()
            and not any(self._lag[g] for g in groups)
        )

    async def measure_lag(self) -> None:
        """End offset minus committed offset for every assigned partition: the gauge and the
        stuck check. One round trip per consumer for the ends, one for the commits."""
        lag_per_group: dict[str, int] = {}
        for group, consumer in self._consumers():
            if consumer is None:
                continue
            with contextlib.suppress(Exception):  # a rebalance or a broker restart: next time
                assigned = list(consumer.assignment())
                if not assigned:
                    continue
                ends = await consumer.end_offsets(assigned)
                starts = await consumer.beginning_offsets(assigned)
                for tp in assigned:
                    committed = await consumer.committed(tp)
                    lag = max(0, ends[tp] - (starts[tp] if committed is None else committed))
                    CONSUMER_LAG.labels(group, tp.topic, str(tp.partition)).set(lag)
                    lag_per_group[group] = lag_per_group.get(group, 0) + lag
        self._lag = lag_per_group


#: the health of this process (one hub per process; tests may make their own)
HEALTH = Health()


def ops_app(health: Health) -> FastAPI:
    """``/metrics``, ``/livez``, ``/readyz``: no authentication, so serve it on a port the
    cluster network reaches and the internet does not (the manifests do)."""
    app = FastAPI(title="Schakel ops", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/metrics")
    async def metrics() -> Response:
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    @app.get("/livez")
    async def livez() -> dict[str, str]:
        return {"status": "live"}

    @app.get("/readyz")
    async def readyz() -> Response:
        problems = health.problems()
        body = {"status": "ready" if not problems else "not ready", "problems": problems}
        status = 200 if not problems else 503
        return Response(orjson.dumps(body), status_code=status, media_type="application/json")

    return app


@contextlib.asynccontextmanager
async def serving_ops(
    health: Health, host: str, port: int, *, lag_every_s: float = 10.0
) -> AsyncIterator[int | None]:
    """The ops endpoints served while inside, with lag measured every ``lag_every_s``;
    yields the port (``port=0``: a free one), or None when the port is in use: logged, and
    the hub runs on without it (in a cluster every pod has its own ports)."""
    async with contextlib.AsyncExitStack() as stack:
        try:
            bound: int | None = await stack.enter_async_context(
                listening(ops_app(health), host, port, name="ops endpoint")
            )
        except OSError as exc:
            log.warning("ops endpoint not served", port=port, reason=str(exc))
            bound = None
        else:
            task = asyncio.create_task(_measure_forever(health, lag_every_s))
            stack.push_async_callback(_cancelled, task)
            log.info("ops endpoint serving", port=bound, paths="/metrics /livez /readyz")
        yield bound


async def _cancelled(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _measure_forever(health: Health, every_s: float) -> None:
    while True:
        await health.measure_lag()
        await asyncio.sleep(every_s)
