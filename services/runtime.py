"""Assembles services into one FastStream app: all of them (development) or one (scaled out)."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from faststream import FastStream
from faststream.kafka import KafkaBroker

from schemas.topics import TopicSpec, topic_specs
from services import delivery, normaliser, router, sync
from services.config import SchakelConfig, Settings
from services.kafka import FRAMEWORK_LOG, build_broker, ensure_topics
from services.logs import get_logger
from services.messaging import KafkaBatchPublisher, Publisher

__all__ = [
    "GC_YOUNG_THRESHOLD",
    "HTTP_SERVICES",
    "SERVICES",
    "build_app",
    "hub_topics",
    "settle_heap",
    "specs_for",
]

log = get_logger(__name__)


@dataclass(frozen=True)
class Wiring:
    """What a service's registration gets: broker, settings, config, publisher, group suffix,
    and lists where it may leave start-up hooks (run after the topics exist, before any
    subscriber consumes) and shutdown hooks (run after the subscribers stopped)."""

    broker: KafkaBroker
    settings: Settings
    config: SchakelConfig
    publisher: Publisher
    group_suffix: str = ""
    on_startup: list[Callable[[], Awaitable[object]]] = field(default_factory=list)
    on_shutdown: list[Callable[[], Awaitable[None]]] = field(default_factory=list)


#: registers a service's subscribers; the suffix keeps test and bench consumer groups apart.
Registrar = Callable[[Wiring], None]


def _normaliser(w: Wiring) -> None:
    service = normaliser.build_normaliser(w.config)
    normaliser.register(
        w.broker, service, w.publisher, group_id=normaliser.GROUP_ID + w.group_suffix
    )
    window = w.settings.normaliser_seed_window
    if window:
        w.on_startup.append(
            lambda: normaliser.seed_gate(w.settings.kafka_bootstrap, service.gate, window=window)
        )


#: service name -> how it subscribes; every service can run alone or together.
SERVICES: dict[str, Registrar] = {
    "normaliser": _normaliser,
    "router": router.register_wiring,
    "delivery": delivery.register_wiring,
    "sync": sync.register_wiring,
}

#: HTTP services, started beside the subscribers when named (or when all run).
HTTP_SERVICES = ("gateway", "replies")


#: allocations between collections of the youngest generation (CPython's default is 700)
GC_YOUNG_THRESHOLD = 10_000


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


def hub_topics(config: SchakelConfig) -> list[str]:
    return [s.name for s in specs_for(config)]


def specs_for(config: SchakelConfig) -> list[TopicSpec]:
    """Every topic this configuration needs."""
    return topic_specs([s.id for s in config.suppliers], [g.code for g in config.gemeenten])


def build_app(
    settings: Settings,
    config: SchakelConfig,
    names: Sequence[str] = (),
    *,
    group_suffix: str | None = None,
    publisher: Publisher | None = None,
) -> tuple[FastStream, KafkaBroker]:
    """The app running ``names`` (all services when empty), creating its topics on start.

    Results are produced by a :class:`KafkaBatchPublisher` started before the subscribers
    and stopped after them, unless another ``publisher`` is given (flow tests).
    """
    chosen = list(names) or [*SERVICES, *HTTP_SERVICES]
    http = [n for n in chosen if n in HTTP_SERVICES]
    chosen = [n for n in chosen if n not in HTTP_SERVICES]
    unknown = [n for n in chosen if n not in SERVICES]
    if unknown:
        known = ", ".join([*SERVICES, *HTTP_SERVICES])
        raise ValueError(f"unknown service(s): {', '.join(unknown)}; known: {known}")
    client_id = f"schakel-{'+'.join(chosen)}"
    security = settings.kafka_security()
    broker = build_broker(settings.kafka_bootstrap, client_id=client_id, security=security)
    owned = None
    if publisher is None:
        owned = KafkaBatchPublisher(
            settings.kafka_bootstrap, client_id=client_id, security=security
        )
        publisher = owned
    suffix = settings.group_suffix if group_suffix is None else group_suffix
    wiring = Wiring(broker, settings, config, publisher, suffix)
    for name in chosen:
        SERVICES[name](wiring)
    app = FastStream(broker, logger=FRAMEWORK_LOG)

    @app.on_startup
    async def create_topics_and_start_publisher() -> None:
        await ensure_topics(
            settings.kafka_bootstrap,
            specs_for(config),
            wait_s=settings.kafka_wait_s,
            security=security,
        )
        if owned is not None:
            await owned.start()
        for hook in wiring.on_startup:
            await hook()
        log.info("services starting", services=chosen, bootstrap=settings.kafka_bootstrap)

    @app.after_shutdown
    async def stop_services_and_publisher() -> None:
        for hook in wiring.on_shutdown:
            await hook()
        if owned is not None:
            await owned.stop()

    if http:  # HTTP servers, not subscribers: started beside them, stopped after them
        stack = contextlib.AsyncExitStack()

        @app.on_startup
        async def start_http_services() -> None:
            if "gateway" in http:
                from services import gateway

                port = settings.gateway_port
                await stack.enter_async_context(gateway.serving(settings, config, port=port))
            if "replies" in http:
                from services import replies

                await stack.enter_async_context(
                    replies.serving(
                        settings, config, port=settings.replies_port, source=settings.replies_source
                    )
                )

        @app.after_shutdown
        async def stop_http_services() -> None:
            await stack.aclose()

    return app, broker
