"""The feed as a service of the hub (services.contract): the projector and the cockpit.

* the **projector** (group ``schakel-feed``) subscribes to every outcome topic by pattern
  (new gemeente topics included) and writes each batch in one transaction
  (:meth:`ReadModel.apply`); a record it cannot read goes to the dead letter, and the offsets
  are committed only after that dead letter is acknowledged;
* the **cockpit** (API under ``/api/v1`` and the pages) is served on ``settings.http_port``
  from :meth:`start`, when ``http`` is true.

Overrides read from the runtime: ``feed_model`` (an open :class:`ReadModel`), ``feed_port``
(the port to serve on; 0 picks a free one), ``feed_offset_reset`` (``latest``: a new
consumer group starts at the end, for tests on a shared broker), ``feed_replay`` (the
function that puts dead letters back, default :func:`services.topics_io.replay_dead_letters`),
``feed_pages`` (pages of other packages, see :class:`services.feed.web.PageKit`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from services.contract import Batch, Runtime, batch_subscriber
from services.feed.live import Changes
from services.feed.rebuild import OUTCOME_PATTERN
from services.feed.store import ReadModel
from services.logs import get_logger
from services.messaging import reject

__all__ = ["GROUP_ID", "SERVICE", "FeedService"]

GROUP_ID = "schakel-feed"
SERVICE = "feed"
_PURGE_EVERY_S = 6 * 3600

log = get_logger(__name__)


class FeedService:
    """The regie's cockpit: projector into the read model, API and pages."""

    name = SERVICE

    def __init__(self, *, http: bool = True) -> None:
        self.http = http
        self.changes = Changes()
        self.port: int | None = None
        self._runtime: Runtime | None = None
        self._model: ReadModel | None = None
        self._owned_model = False
        self._stack = contextlib.AsyncExitStack()
        self._purger: asyncio.Task[None] | None = None

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            raise RuntimeError("FeedService.bind() was not called")
        return self._runtime

    @property
    def model(self) -> ReadModel:
        if self._model is None:
            raise RuntimeError("FeedService.start() was not awaited")
        return self._model

    def bind(self, runtime: Runtime) -> None:
        self._runtime = runtime

        @batch_subscriber(
            runtime,
            group_id=GROUP_ID,
            pattern=OUTCOME_PATTERN,
            max_records=2000,
            auto_offset_reset=str(runtime.overrides.get("feed_offset_reset", "earliest")),
        )
        async def project_outcomes(records: Batch) -> None:
            await self.project(records)

    async def project(self, records: Batch) -> None:
        """One consumed batch into the read model; unreadable records to the dead letter."""
        runtime = self.runtime
        result = await self.model.apply(records, now=runtime.clock())
        if result.unreadable:
            await runtime.publisher.send_all(
                [reject(r, e, e.reason, service=SERVICE) for r, e in result.unreadable]
            )
        if result.touched or result.facts:
            await self.changes.notify(result.touched)

    async def start(self) -> None:
        runtime = self.runtime
        given = runtime.overrides.get("feed_model")
        if isinstance(given, ReadModel):
            self._model = given
        else:
            self._model = await ReadModel.open(runtime.settings.store_url)
            self._owned_model = True
        self._purger = asyncio.create_task(self._purge_now_and_then())
        if self.http:
            self.port = await self._stack.enter_async_context(self._serving())
            log.info("cockpit listening", url=f"http://{runtime.settings.http_host}:{self.port}/")

    @contextlib.asynccontextmanager
    async def _serving(self) -> AsyncIterator[int]:
        from services.feed.web import build_app
        from services.http import listening

        runtime = self.runtime
        port: Any = runtime.overrides.get("feed_port", runtime.settings.http_port)
        pages = runtime.overrides.get("feed_pages", ())
        app = build_app(runtime, self.model, self.changes, pages=pages)
        async with listening(app, runtime.settings.http_host, int(port), name="cockpit") as bound:
            yield bound

    async def _purge_now_and_then(self) -> None:
        retention = self.runtime.config.feed.retention.tables
        while True:
            try:
                removed = await self.model.purge(
                    {str(k): v for k, v in retention.items()}, now=self.runtime.clock()
                )
                if any(removed.values()):
                    log.info("read model purged past retention", **removed)
                await self.model.optimize()
            except Exception:  # a purge that fails is tried again later; projecting goes on
                log.exception("read model purge failed")
            await asyncio.sleep(_PURGE_EVERY_S)

    async def stop(self) -> None:
        if self._purger is not None:
            self._purger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._purger
            self._purger = None
        await self._stack.aclose()
        if self._model is not None and self._owned_model:
            await self._model.close()
        self._model = None
