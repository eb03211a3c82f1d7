"""The gateway as a :class:`~services.contract.Service`: the webhook API served with uvicorn
from :meth:`GatewayService.start` to :meth:`GatewayService.stop`, in the event loop of the
app that runs it (``schakel serve gateway``, ``schakel gateway``, or every service at once).

It publishes through the runtime's one producer; the composition root has created the
suppliers' inbound topics before :meth:`start`. It declares no subscriber.
"""

from __future__ import annotations

import contextlib

from services.contract import Runtime
from services.gateway.api import Readiness, create_app
from services.gateway.batcher import Batcher
from services.http import listening
from services.logs import get_logger

__all__ = ["GatewayService"]

log = get_logger(__name__)


class GatewayService:
    """Serves ``POST /webhooks/<supplier>`` on ``settings.http_host``:``settings.gateway_port``
    (port 0: a free one; :attr:`port` tells which once started).

    Adapters it reads from ``runtime.overrides``: ``gateway.readiness`` (a
    :data:`~services.gateway.api.Readiness`; default a probe of the broker) and
    ``gateway.batcher`` (a :class:`Batcher`; default one over ``runtime.publisher``).
    """

    name = "gateway"

    def __init__(self) -> None:
        self.port: int | None = None
        self._runtime: Runtime | None = None
        self._stack = contextlib.AsyncExitStack()

    def bind(self, runtime: Runtime) -> None:
        self._runtime = runtime

    async def start(self) -> None:
        runtime = self._runtime
        assert runtime is not None, "bind() first"
        settings, config = runtime.settings, runtime.config
        readiness: Readiness | None = runtime.adapter("gateway.readiness", lambda: None)
        batcher: Batcher | None = runtime.adapter("gateway.batcher", lambda: None)
        app = create_app(settings, config, runtime.publisher, readiness=readiness, batcher=batcher)
        host = settings.http_host
        self.port = await self._stack.enter_async_context(
            listening(app, host, settings.gateway_port, name="gateway", settings=settings)
        )
        log.info("gateway listening", host=host, port=self.port, suppliers=len(config.suppliers))

    async def stop(self) -> None:
        """Stop listening; in-flight webhooks are finished and acknowledged first."""
        await self._stack.aclose()
        self.port = None
