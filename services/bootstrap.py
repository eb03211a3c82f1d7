"""The composition root: the one module that imports the service packages and assembles them.

Every service implements :class:`~services.contract.Service`. :func:`bootstrap` builds, for
the services named (all by default), one FastStream app around one broker (consumer side
only) and one producer (:class:`~services.messaging.KafkaBatchPublisher`), hands each
service a :class:`~services.contract.Runtime`, and orders the life cycle:

1. ``bind(runtime)`` of every service (subscribers declared, nothing opened);
2. on start: the hub's topics are created once (:func:`specs_for`), the producer starts, then
   ``await start()`` of every service in registry order (stores, seeding, HTTP servers),
   then the subscribers consume;
3. on stop: the subscribers stop, ``await stop()`` in reverse order, then the producer.

Tests and tools build services through :func:`bootstrap` too, handing in adapters: a
``publisher`` (the in-memory one of the tests, or ``tests.fakes.BrokerPublisher``
for FastStream's ``TestKafkaBroker``), a ``broker``, a ``clock``, and ``overrides`` by name
(``router.decisions``, ``sync.api``, ...: each service's docstring lists the names it reads).

A new service is one entry in :data:`SERVICES`; its command group (a ``typer.Typer`` in
``<package>/cli.py``), if it has one, one entry in :data:`COMMANDS`. Nothing else imports a
service package: the CLI reaches service tools through :data:`COMMANDS` and runs services
through :func:`bootstrap` (see docs/ARCHITECTURE.md).

>>> hub = bootstrap(settings, config, ["normaliser", "router"])  # doctest: +SKIP
>>> await hub.app.run()                                          # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import typer
from faststream import FastStream
from faststream.kafka import KafkaBroker

from schemas.topics import TopicSpec, topic_specs
from services.changes.cli import app as changes_commands
from services.changes.pages import cockpit_pages
from services.changes.service import ChangesService
from services.config import SchakelConfig, Settings
from services.contract import Clock, Runtime, Service, utc_now
from services.delivery.service import DeliveryService
from services.feed.cli import audit_app, feed_app
from services.feed.service import FeedService
from services.gateway.service import GatewayService
from services.kafka import FRAMEWORK_LOG, build_broker, ensure_topics
from services.logs import get_logger
from services.messaging import KafkaBatchPublisher, Publisher
from services.normaliser.service import NormaliserService
from services.observability import HEALTH, serving_ops
from services.replies.service import RepliesService
from services.router.cli import app as route_commands
from services.router.service import RouterService
from services.sla.cli import app as sla_commands
from services.sla.service import SlaService
from services.sync.service import SyncService

__all__ = [
    "COMMANDS",
    "GC_YOUNG_THRESHOLD",
    "SERVICES",
    "Hub",
    "bootstrap",
    "settle_heap",
    "specs_for",
]

log = get_logger(__name__)

#: service name -> how to make it; ``schakel serve`` runs all of them, or the ones named,
#: started in this order (consumers first, then the HTTP services that feed them)
SERVICES: Mapping[str, Callable[[], Service]] = {
    "normaliser": NormaliserService,
    "router": RouterService,
    "delivery": DeliveryService,
    "sync": SyncService,
    "changes": ChangesService,
    "sla": SlaService,
    "gateway": GatewayService,
    "replies": RepliesService,
    "feed": FeedService,
}

#: the service packages' command groups, added to ``schakel`` by the CLI
COMMANDS: tuple[typer.Typer, ...] = (
    route_commands,
    changes_commands,
    feed_app,
    audit_app,
    sla_commands,
)


class _TopicsExist(logging.Filter):
    """FastStream warns, per subscriber, that a consumer-only broker creates no topics; the
    root has created them (:func:`specs_for`) before any subscriber starts."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Topic creation is skipped in consumer-only mode" not in record.getMessage()


FRAMEWORK_LOG.addFilter(_TopicsExist())

#: allocations between collections of the youngest generation (CPython's default is 700)
GC_YOUNG_THRESHOLD = 10_000


def specs_for(config: SchakelConfig) -> list[TopicSpec]:
    """Every topic this configuration needs, with its partitions and settings."""
    return topic_specs(
        [s.id for s in config.suppliers],
        [g.code for g in config.gemeenten],
        retention_years=config.feed.retention.topics,  # docs/RETENTION.md
    )


@dataclass(frozen=True)
class Hub:
    """What :func:`bootstrap` assembled: run ``app`` (``await app.run()`` in a process,
    ``async with hub.running():`` in a test); ``services`` by name for tests and tools."""

    app: FastStream
    broker: KafkaBroker
    runtime: Runtime
    services: Mapping[str, Service]

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Hub]:
        """Started (topics, producer, services, subscribers) while inside; stopped after."""
        await self.app.start()
        try:
            yield self
        finally:
            await self.app.stop()


def bootstrap(
    settings: Settings,
    config: SchakelConfig,
    names: Sequence[str] = (),
    *,
    publisher: Publisher | None = None,
    broker: KafkaBroker | None = None,
    clock: Clock = utc_now,
    group_suffix: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    create_topics: bool = True,
) -> Hub:
    """The hub running ``names`` (every service in :data:`SERVICES` when empty).

    ``publisher``: the one producer every service publishes through (default a
    :class:`KafkaBatchPublisher`, started after the topics exist and stopped after the
    services; one given is started and stopped by its owner). ``broker``: default one for
    ``settings.kafka_bootstrap`` that only consumes. ``group_suffix``: default
    ``settings.group_suffix``. ``create_topics``: create the hub's topics on start.
    Raises ValueError for an unknown service name.
    """
    chosen = list(dict.fromkeys(names)) or list(SERVICES)
    unknown = [n for n in chosen if n not in SERVICES]
    if unknown:
        raise ValueError(f"unknown service(s): {', '.join(unknown)}; known: {', '.join(SERVICES)}")
    chosen = [n for n in SERVICES if n in chosen]  # registry order
    client_id = f"schakel-{'+'.join(chosen)}"
    security = settings.kafka_security()
    if broker is None:  # the one producer is the publisher; the broker only consumes
        broker = build_broker(
            settings.kafka_bootstrap, client_id=client_id, security=security, consumer_only=True
        )
    owned = None
    if publisher is None:
        owned = publisher = KafkaBatchPublisher(
            settings.kafka_bootstrap, client_id=client_id, security=security
        )
    runtime = Runtime(
        broker=broker,
        publisher=publisher,
        settings=settings,
        config=config,
        clock=clock,
        group_suffix=settings.group_suffix if group_suffix is None else group_suffix,
        overrides={
            # the change calendar's pages join the cockpit (the feed imports no other service)
            "feed_pages": [cockpit_pages(config, settings.store_url)],
            **(overrides or {}),
        },
    )
    services = {name: SERVICES[name]() for name in chosen}
    for service in services.values():
        service.bind(runtime)
    app = FastStream(broker, logger=FRAMEWORK_LOG)
    stack = contextlib.AsyncExitStack()

    @app.on_startup
    async def start_services() -> None:
        if create_topics:
            await ensure_topics(
                settings.kafka_bootstrap,
                specs_for(config),
                wait_s=settings.kafka_wait_s,
                security=security,
            )
        try:
            if owned is not None:
                await owned.start()
                stack.push_async_callback(owned.stop)
            for service in services.values():
                await service.start()
                stack.push_async_callback(service.stop)
        except BaseException:
            await stack.aclose()  # what did start stops again
            raise
        HEALTH.stuck_after_s = settings.ops_stuck_after_s
        HEALTH.watch(broker)
        await stack.enter_async_context(serving_ops(HEALTH, settings.ops_host, settings.ops_port))
        log.info("services starting", services=chosen, bootstrap=settings.kafka_bootstrap)

    @app.after_startup
    async def consuming() -> None:
        HEALTH.started = True

    @app.on_shutdown
    async def not_ready() -> None:
        HEALTH.started = False

    @app.after_shutdown
    async def stop_services() -> None:
        await stack.aclose()  # services in reverse order, then the producer

    return Hub(app, broker, runtime, services)


def settle_heap() -> None:
    """Tune the cyclic garbage collector for batch work, once start-up is done.

    Everything built at start-up (modules, models, config, the seeded idempotency gate) is
    frozen out of the collector's sight, and the youngest generation is collected after
    10,000 allocations instead of 700: a batch of 5,000 records allocates hundreds of
    thousands of short-lived objects, nearly all freed by reference counting, and the
    default cadence spent about 5 % of the normaliser's time re-scanning them (bench/).
    """
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)
