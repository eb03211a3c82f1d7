"""The replies API as a :class:`~services.contract.Service`: served with uvicorn from
:meth:`RepliesService.start` to :meth:`RepliesService.stop`, in the event loop of the app
that runs it (``schakel serve replies``, ``schakel replies``, or every service at once).

It publishes through the runtime's one producer; ``schakel.replies.v1`` exists before
:meth:`start` (the composition root creates the hub's topics). It declares no subscriber.
"""

from __future__ import annotations

import contextlib

from services.contract import Runtime
from services.http import listening
from services.logs import get_logger
from services.replies.api import create_app
from services.tickets import CorrelationStore

__all__ = ["RepliesService"]

log = get_logger(__name__)


class RepliesService:
    """Serves the replies API on ``settings.http_host``:``settings.replies_port`` (port 0: a
    free one; :attr:`port` tells which once started), with ``settings.replies_source`` as the
    replies' CloudEvents source and ``runtime.clock`` as their time.

    Adapters it reads from ``runtime.overrides``: ``replies.store`` (the
    :class:`CorrelationStore` it reads tickets and routes from; default one at
    ``settings.store_url``, opened at :meth:`start`, closed at :meth:`stop`).
    """

    name = "replies"

    def __init__(self) -> None:
        self.port: int | None = None
        self._runtime: Runtime | None = None
        self._stack = contextlib.AsyncExitStack()

    def bind(self, runtime: Runtime) -> None:
        self._runtime = runtime

    async def start(self) -> None:
        runtime = self._runtime
        assert runtime is not None, "bind() first"
        settings = runtime.settings
        if "replies.store" in runtime.overrides:
            store: CorrelationStore = runtime.overrides["replies.store"]
        else:
            store = CorrelationStore(url=settings.store_url)
            await store.engine()
            self._stack.push_async_callback(store.close)
        app = create_app(
            runtime.config,
            store,
            runtime.publisher,
            source=settings.replies_source,
            clock=runtime.clock,
        )
        host = settings.http_host
        self.port = await self._stack.enter_async_context(
            listening(app, host, settings.replies_port, name="replies API", settings=settings)
        )
        log.info("replies API listening", host=host, port=self.port)

    async def stop(self) -> None:
        await self._stack.aclose()
        self.port = None
