"""The SLA service on the Service contract: consumes the normalised incidents and changes,
keeps every ticket's history in the SLA store, and publishes SLA events on
``schakel.sla.v1``, from ticket events and from a timer.

**Time.** Every SLA event carries the moment it happened in the ticket's time (a ticket
event's time, or the computed moment a threshold was passed). The service publishes an event
once ``runtime.clock()`` has reached that moment: ticket events produce their SLA events at
once, and a timer (every ``sla_tick_s``) publishes the warnings and breaches that fall due
while nothing happens to the ticket. The clock is injectable (``Runtime.clock``; for a whole
process ``SCHAKEL_SLA_CLOCK_START`` and ``SCHAKEL_SLA_CLOCK_SPEED``, see
:func:`clock_from_settings`).

**Once, also across kill -9: the topic is the system of record.** Event ids are deterministic
(the same history gives the same ids). At start the service reads ``schakel.sla.v1`` to its
end and keeps the ids found there; an event is published only if its id is not among them.
Then nothing is lost (the store and the timer's index are written before publishing, offsets
are committed after the broker acknowledged, so a crash before the acknowledgement means the
ticket events are consumed again or the timer finds the moment due again) and nothing is
doubled (whatever reached the topic before the crash is found there at start). A store or a
separate "sent" table would not do: a crash between the broker's acknowledgement and the
store's commit would publish the event again.

One SLA service per store: two instances sharing a store would both run the timer.

Overrides read from ``Runtime.overrides``: ``"sla.store"`` (an open :class:`SlaStore`),
``"sla.published"`` (the ids already on the topic, instead of reading it: flow tests).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from datetime import UTC, datetime

import orjson
from pydantic import ValidationError

from schemas.tickets import Change, Incident
from schemas.topics import CHANGES, INCIDENTS, SLA
from services.config import Settings
from services.contract import Batch, Clock, Runtime, batch_subscriber
from services.logs import get_logger
from services.messaging import OutboundMessage, reject
from services.observability import SLA_EVENTS
from services.sla.clocks import TicketHistory
from services.sla.pipeline import SlaWatch
from services.sla.store import SlaStore
from services.topics_io import read_topic

__all__ = ["GROUP_ID", "SlaService", "clock_from_settings", "published_ids"]

GROUP_ID = "schakel-sla"
SERVICE = "sla"

log = get_logger(__name__)


def clock_from_settings(settings: Settings, fallback: Clock) -> Clock:
    """``fallback`` unless ``sla_clock_start`` is set: then a clock that stood at that time
    at the wall-clock moment ``sla_clock_anchor`` and runs ``sla_clock_speed`` times as
    fast (for end-to-end tests and demos of whole processes; a restarted process with the
    same settings continues the same time line)."""
    start = settings.sla_clock_start
    if start is None:
        return fallback
    anchor = settings.sla_clock_anchor or datetime.now(UTC)
    speed = settings.sla_clock_speed

    def warped() -> datetime:
        return start + (datetime.now(UTC) - anchor) * speed

    return warped


async def published_ids(bootstrap: str) -> set[str]:
    """The ids of every event on ``schakel.sla.v1`` (read to its end)."""
    ids: set[str] = set()
    async for record in read_topic(bootstrap, SLA):
        with contextlib.suppress(orjson.JSONDecodeError, KeyError, TypeError):
            ids.add(str(orjson.loads(record.value)["id"]))
    return ids


class SlaService:
    """The SLA watch as a hub service (see the module docstring)."""

    name = SERVICE

    def __init__(self) -> None:
        self._runtime: Runtime | None = None
        self._store: SlaStore | None = None
        self._owns_store = False
        self._watch: SlaWatch | None = None
        self._published: set[str] = set()
        self._lock = asyncio.Lock()
        self._timer: asyncio.Task[None] | None = None
        self._clock: Clock | None = None

    # -- the contract ------------------------------------------------------------------------

    def bind(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._clock = clock_from_settings(runtime.settings, runtime.clock)
        self._watch = SlaWatch(runtime.config, source=runtime.settings.sla_source)

        @batch_subscriber(runtime, INCIDENTS, CHANGES, group_id=GROUP_ID, max_records=2000)
        async def on_tickets(records: Batch) -> None:
            await self.handle(records)

    async def start(self) -> None:
        runtime = self._require_runtime()
        store: SlaStore | None = runtime.overrides.get("sla.store")
        if store is None:
            store = await SlaStore.open(runtime.settings.store_url)
            self._owns_store = True
        self._store = store
        known: set[str] | None = runtime.overrides.get("sla.published")
        if known is None:
            known = await published_ids(runtime.settings.kafka_bootstrap)
        self._published = set(known)
        log.info("sla watch starting", published=len(self._published))
        await self.tick()
        self._timer = asyncio.create_task(self._run_timer(runtime.settings.sla_tick_s))

    async def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer
            self._timer = None
        if self._store is not None and self._owns_store:
            await self._store.close()
        self._store = None

    # -- the work ----------------------------------------------------------------------------

    def _require_runtime(self) -> Runtime:
        if self._runtime is None:
            raise RuntimeError("bind() the SLA service before starting it")
        return self._runtime

    def now(self) -> datetime:
        assert self._clock is not None
        return self._clock()

    async def handle(self, records: Batch) -> None:
        """One consumed batch: histories updated, SLA events published, then return."""
        runtime, store, watch = self._require_runtime(), self._store, self._watch
        assert store is not None and watch is not None
        out: list[OutboundMessage] = []
        tickets: list[Incident | Change] = []
        for record in records:
            try:
                ticket = watch.read(record.topic, record.value or b"")
            except (ValidationError, ValueError, KeyError, TypeError) as exc:
                out.append(reject(record, exc, f"not a normalised ticket: {exc}", service=SERVICE))
                continue
            if ticket is not None:
                tickets.append(ticket)
        async with self._lock:
            histories = await store.load({t.hub_id for t in tickets})
            changed = watch.ingest(histories, tickets)
            out += await self._publishable([histories[h] for h in sorted(changed)])
            await runtime.publisher.send_all(out)
            self._remember(out)

    async def tick(self) -> int:
        """Publish what fell due by now; the number of SLA events published."""
        store = self._store
        assert store is not None
        count = 0
        while True:
            async with self._lock:
                due = await store.due(self.now())
                if not due:
                    return count
                histories = await store.load(due)
                out = await self._publishable(list(histories.values()))
                await self._require_runtime().publisher.send_all(out)
                self._remember(out)
                count += len(out)
                if len(due) < 1000:
                    return count

    async def _publishable(self, histories: Iterable[TicketHistory]) -> list[OutboundMessage]:
        """Evaluate, save the histories with their next due moment, and give what to publish."""
        store, watch = self._store, self._watch
        assert store is not None and watch is not None
        now = self.now()
        out: list[OutboundMessage] = []
        saved: list[tuple[TicketHistory, datetime | None]] = []
        for history in histories:
            # a ticket event is proof that its own time has come (a supplier's clock may
            # run a little ahead of ours)
            at = max(now, history.last_at)
            messages, _ids, next_due = watch.messages(history, at, self._published)
            out += messages
            saved.append((history, next_due))
        await store.save(saved)
        return out

    def _remember(self, messages: Iterable[OutboundMessage]) -> None:
        for message in messages:
            if message.topic == SLA:
                event = orjson.loads(message.value)
                self._published.add(str(event["id"]))
                kind = str(event.get("type", "")).removeprefix("nl.itsm.sla.").split(".")[0]
                SLA_EVENTS.labels(str(event.get("supplierid", "")), kind).inc()

    async def _run_timer(self, every_s: float) -> None:
        while True:
            await asyncio.sleep(every_s)
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("sla timer failed; retrying at the next tick")
                await asyncio.sleep(min(30.0, every_s * 10))
