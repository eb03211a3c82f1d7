"""The changes service on the Service contract: thin subscribers around the calendar.

Two consumers and a timer on the runtime's broker:

* the **CMDB feed** (:class:`services.cmdb.CmdbFeed`) reads ``schakel.cis.v1`` without a
  consumer group (every process reads the compacted topic whole) and keeps the CI table
  live; the first evaluation waits until it caught up with the topic's end at start
  (bounded by ``cmdb_load_timeout_s``);
* the **calendar** reads ``schakel.changes.v1`` in batches in the group ``schakel-changes``:
  per batch, apply the changes (unreadable records become dead letters), evaluate, publish
  findings, notices and dead letters and wait for the acknowledgements, store the rows, and
  only then return (offsets are committed after that). When anything fails the batch is
  consumed again and the same ids are produced again;
* the **timer** runs the same evaluation every ``changes.tick_seconds``: notices fall due and
  changes run late without any event arriving.

The schedule is global (a collision needs both changes), so the service runs as one
instance; its state is in the store (:mod:`services.changes.store`), so a restarted or
replacement instance continues where the last one stopped.

Overrides read from ``Runtime.overrides``: ``changes.store`` (an open
:class:`~services.changes.store.ChangeStore`, else ``settings.store_url``), ``changes.cmdb``
(a filled :class:`~services.cmdb.CiTable`, taken as loaded; else an empty one the feed
fills), ``changes.tick`` (False: no timer).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

from pydantic import TypeAdapter, ValidationError

from schemas import Change, CloudEvent
from schemas.topics import CHANGES, CIS
from services.changes.calendar import ChangeCalendar, Evaluation
from services.changes.errors import UnreadableChange
from services.changes.store import ChangeStore
from services.cmdb import FOLLOWER_GROUP, CiTable, CmdbFeed, cis_end_offsets
from services.contract import Batch, Runtime, batch_subscriber
from services.kafka import raw_batch_decoder, raw_batch_parser
from services.logs import get_logger
from services.messaging import OutboundMessage, RawRecord, reject

__all__ = ["GROUP_ID", "SERVICE", "ChangesService"]

SERVICE = "changes"
GROUP_ID = "schakel-changes"

_CHANGE_EVENT = TypeAdapter(CloudEvent[Change])


async def _loaded() -> dict[int, int]:
    return {}


log = get_logger(__name__)


class ChangesService:
    """The change calendar as a hub service (see the module docstring)."""

    name = SERVICE

    def __init__(self, *, cmdb_load_timeout_s: float = 120.0) -> None:
        self._runtime: Runtime | None = None
        self._calendar: ChangeCalendar | None = None
        self._feed: CmdbFeed | None = None
        self._load_timeout_s = cmdb_load_timeout_s
        self._store: ChangeStore | None = None
        self._owns_store = False
        self._lock = asyncio.Lock()
        self._timer: asyncio.Task[None] | None = None

    @property
    def calendar(self) -> ChangeCalendar:
        if self._calendar is None:
            raise RuntimeError("ChangesService.bind() has not run")
        return self._calendar

    @property
    def store(self) -> ChangeStore:
        if self._store is None:
            raise RuntimeError("ChangesService.start() has not run")
        return self._store

    def bind(self, runtime: Runtime) -> None:
        self._runtime = runtime
        given: CiTable | None = runtime.overrides.get("changes.cmdb")
        if given is not None:
            self._feed = CmdbFeed(given, _loaded)
        else:
            bootstrap = runtime.settings.kafka_bootstrap

            async def end_offsets() -> dict[int, int]:
                return await cis_end_offsets(bootstrap)

            self._feed = CmdbFeed(CiTable(), end_offsets)
        feed = self._feed
        self._calendar = ChangeCalendar(runtime.config, feed.table)

        @runtime.broker.subscriber(
            CIS,
            group_id=FOLLOWER_GROUP,
            batch=True,
            max_records=5000,
            batch_timeout_ms=50,
            auto_offset_reset="earliest",
            parser=raw_batch_parser,
            decoder=raw_batch_decoder,
        )
        async def follow_cmdb(records: Any) -> None:
            await feed.apply(records)

        @batch_subscriber(runtime, CHANGES, group_id=GROUP_ID)
        async def plan_changes(records: Batch) -> None:
            await self.handle(records)

    async def start(self) -> None:
        runtime = self._require()
        store = runtime.overrides.get("changes.store")
        if store is None:
            self._store = await ChangeStore.open(runtime.settings.store_url)
            self._owns_store = True
        else:
            self._store = store
        self.calendar.restore(await self.store.load())
        if runtime.overrides.get("changes.tick", True):
            self._timer = asyncio.create_task(self._tick(), name="changes-timer")

    async def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer
            self._timer = None
        if self._store is not None and self._owns_store:
            await self._store.close()
        self._store = None

    # --- the steps -----------------------------------------------------------------------

    async def handle(self, records: Sequence[RawRecord]) -> None:
        """One batch of ``schakel.changes.v1``: returns once everything it produced is
        acknowledged and stored."""
        dead: list[OutboundMessage] = []
        await self._cmdb_loaded()
        async with self._lock:
            for record in records:
                try:
                    change = _CHANGE_EVENT.validate_json(record.value or b"").data
                except ValidationError as exc:
                    error = UnreadableChange(f"not a normalised change event: {exc}")
                    dead.append(reject(record, error, error.reason, service=SERVICE))
                    continue
                self.calendar.apply(change)
            await self._step(dead)

    async def evaluate_now(self) -> Evaluation:
        """Run one evaluation at the runtime's clock (what the timer does)."""
        await self._cmdb_loaded()
        async with self._lock:
            return await self._step([])

    async def _step(self, extra: list[OutboundMessage]) -> Evaluation:
        runtime = self._require()
        result = self.calendar.evaluate(runtime.clock())
        messages = extra + result.messages
        if messages:
            await runtime.publisher.send_all(messages)
        await self.store.save(result.schedule, result.findings, result.notices)
        self.calendar.commit(result)
        if result.raised or result.withdrawn or result.notices:
            log.debug(
                "change calendar evaluated",
                raised=result.raised,
                withdrawn=result.withdrawn,
                notices=len(result.notices),
            )
        return result

    async def _tick(self) -> None:
        runtime = self._require()
        every = runtime.config.changes.tick_seconds
        while True:
            await asyncio.sleep(every)
            try:
                await self.evaluate_now()
            except Exception:  # the next tick tries again; the batch path is unaffected
                log.exception("change calendar evaluation failed")

    async def _cmdb_loaded(self) -> None:
        if self._feed is not None and not self._feed.loaded:
            await self._feed.wait_loaded(self._load_timeout_s)

    def _require(self) -> Runtime:
        if self._runtime is None:
            raise RuntimeError("ChangesService.bind() has not run")
        return self._runtime
