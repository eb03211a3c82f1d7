"""Assembles services into one FastStream app: all of them (development) or one (scaled out)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from faststream import FastStream
from faststream.kafka import KafkaBroker

from schemas.topics import TopicSpec, topic_specs
from services import normaliser
from services.config import SchakelConfig, Settings
from services.kafka import build_broker, ensure_topics
from services.logs import get_logger

__all__ = ["SERVICES", "build_app", "hub_topics"]

log = get_logger(__name__)

Registrar = Callable[[KafkaBroker, SchakelConfig], None]


def _normaliser(broker: KafkaBroker, config: SchakelConfig) -> None:
    normaliser.register(broker, normaliser.build_normaliser(config))


#: service name -> how it subscribes; every service can run alone or together.
SERVICES: dict[str, Registrar] = {"normaliser": _normaliser}


def hub_topics(config: SchakelConfig) -> list[str]:
    return [s.name for s in _specs(config)]


def _specs(config: SchakelConfig) -> list[TopicSpec]:
    return topic_specs([s.id for s in config.suppliers], [g.code for g in config.gemeenten])


def build_app(
    settings: Settings, config: SchakelConfig, names: Sequence[str] = ()
) -> tuple[FastStream, KafkaBroker]:
    """The app running ``names`` (all services when empty), creating its topics on start."""
    chosen = list(names) or list(SERVICES)
    unknown = [n for n in chosen if n not in SERVICES]
    if unknown:
        raise ValueError(f"unknown service(s): {', '.join(unknown)}; known: {', '.join(SERVICES)}")
    broker = build_broker(settings.kafka_bootstrap, client_id=f"schakel-{'+'.join(chosen)}")
    for name in chosen:
        SERVICES[name](broker, config)
    app = FastStream(broker)

    @app.on_startup
    async def create_topics() -> None:
        await ensure_topics(settings.kafka_bootstrap, _specs(config))
        log.info("services starting", services=chosen, bootstrap=settings.kafka_bootstrap)

    return app, broker
