"""Running the replies API: the store and the producer, served with uvicorn.

:func:`serve` runs it as its own process (its own signal handling); :func:`serving` runs it
in the background of an event loop another app owns (``schakel serve`` with everything in
one process, and the end-to-end tests).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from schemas.topics import REPLIES, TopicSpec, topic_specs
from services.config import SchakelConfig, Settings
from services.http import listening, uvicorn_server
from services.kafka import ensure_topics
from services.logs import get_logger
from services.messaging import KafkaBatchPublisher
from services.replies.app import DEFAULT_SOURCE, create_app
from services.sync import CorrelationStore

__all__ = ["running_replies", "serve", "serving"]

log = get_logger(__name__)

CLIENT_ID = "schakel-replies"


def _replies_spec() -> list[TopicSpec]:
    return [s for s in topic_specs([], []) if s.name == REPLIES]


@contextlib.asynccontextmanager
async def running_replies(
    settings: Settings, config: SchakelConfig, *, source: str = DEFAULT_SOURCE
) -> AsyncIterator[FastAPI]:
    """The API with its producer started and its store open; ``schakel.replies.v1`` exists."""
    await ensure_topics(settings.kafka_bootstrap, _replies_spec())
    publisher = KafkaBatchPublisher(settings.kafka_bootstrap, client_id=CLIENT_ID)
    store = CorrelationStore(url=settings.store_url)
    await store.engine()
    await publisher.start()
    try:
        yield create_app(config, store, publisher, source=source)
    finally:
        await publisher.stop()
        await store.close()


async def serve(
    settings: Settings,
    config: SchakelConfig,
    *,
    host: str | None = None,
    port: int | None = None,
) -> None:
    """Run the API until SIGINT/SIGTERM on ``host``:``port`` (default: the settings)."""
    host = host or settings.http_host
    port = port or settings.http_port
    async with running_replies(settings, config) as app:
        log.info("replies API starting", host=host, port=port)
        await uvicorn_server(app, host, port, signals=True).serve()


@contextlib.asynccontextmanager
async def serving(
    settings: Settings,
    config: SchakelConfig,
    *,
    host: str | None = None,
    port: int | None = None,
    source: str = DEFAULT_SOURCE,
) -> AsyncIterator[int]:
    """The API served from a task of the running loop; yields the port (``port=0``: a free
    one). Signals are left to the embedding app; shuts down gracefully on exit."""
    host = host or settings.http_host
    port = settings.http_port if port is None else port
    async with (
        running_replies(settings, config, source=source) as app,
        listening(app, host, port, name="replies API") as bound,
    ):
        yield bound
