"""Running the gateway: check the supplier topics, start the producer, serve with uvicorn.

``schakel gateway`` runs :func:`serve` (its own process, its own signal handling).
:func:`serving` runs the gateway in the background of an event loop that another app owns
(``schakel serve`` with every service in one process, and the end-to-end tests).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from schemas.topics import TopicSpec, inbound_topic, topic_specs
from services.config import SchakelConfig, Settings
from services.gateway.app import create_app
from services.http import listening, uvicorn_server
from services.kafka import ensure_topics
from services.logs import get_logger
from services.messaging import KafkaBatchPublisher

__all__ = ["inbound_specs", "running_gateway", "serve", "serving"]

log = get_logger(__name__)

CLIENT_ID = "schakel-gateway"


def inbound_specs(config: SchakelConfig) -> list[TopicSpec]:
    """The inbound topic of every configured supplier, with the hub's settings for it."""
    names = {inbound_topic(s.id) for s in config.suppliers}
    return [s for s in topic_specs([s.id for s in config.suppliers], []) if s.name in names]


@contextlib.asynccontextmanager
async def running_gateway(settings: Settings, config: SchakelConfig) -> AsyncIterator[FastAPI]:
    """The gateway app with its producer started; the suppliers' topics exist.

    Waits for the broker (BrokerUnavailable after a minute) and creates a missing inbound
    topic with the hub's settings, as ``schakel topics`` would.
    """
    created = await ensure_topics(settings.kafka_bootstrap, inbound_specs(config))
    if created:
        log.warning("inbound topics were missing and have been created", topics=created)
    publisher = KafkaBatchPublisher(settings.kafka_bootstrap, client_id=CLIENT_ID)
    await publisher.start()
    try:
        yield create_app(settings, config, publisher)
    finally:
        await publisher.stop()


async def serve(
    settings: Settings,
    config: SchakelConfig,
    *,
    host: str | None = None,
    port: int | None = None,
) -> None:
    """Run the gateway until SIGINT/SIGTERM on ``host``:``port`` (default: the settings'
    ``http_host`` and ``http_port``); in-flight webhooks are finished and acknowledged."""
    host = host or settings.http_host
    port = port or settings.http_port
    async with running_gateway(settings, config) as app:
        log.info("gateway starting", host=host, port=port, suppliers=len(config.suppliers))
        await uvicorn_server(app, host, port, signals=True).serve()


@contextlib.asynccontextmanager
async def serving(
    settings: Settings,
    config: SchakelConfig,
    *,
    host: str | None = None,
    port: int | None = None,
) -> AsyncIterator[int]:
    """The gateway served from a task of the running loop, listening when this is entered;
    yields the port (``port=0`` picks a free one). It leaves SIGINT/SIGTERM to the app
    that embeds it, and shuts down gracefully on exit."""
    host = host or settings.http_host
    port = settings.http_port if port is None else port
    async with (
        running_gateway(settings, config) as app,
        listening(app, host, port, name="gateway") as bound,
    ):
        yield bound
