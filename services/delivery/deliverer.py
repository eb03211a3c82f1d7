"""The delivery service's logic: routed events in, deliveries and dead letters out. No Kafka.

For each batch of records from ``schakel.gemeente.<GMxxxx>.v1`` (a *recipient list* over
the FB teams' channels, with an *idempotent consumer* and a *dead letter channel*):

1. the topic names the gemeente; only that gemeente's teams receive anything (tenant
   isolation): a recipient of another gemeente in the event is a router bug, logged at error
   and ignored;
2. every (team, channel) of the event becomes a :class:`Delivery` with an idempotency key
   derived from the event id, gemeente, team and channel;
3. one store read per batch: keys delivered already are skipped (a replay or a redelivery
   after a crash only retries what failed), and each ticket's receiver reference is looked
   up (a later update goes to the same TOPdesk incident / mail thread);
4. deliveries run concurrently (bounded by a semaphore), but those of one ticket to one
   channel run in order; an older version than one delivered already is skipped;
5. each channel call is tried a few times in the batch (:mod:`services.delivery.retry`,
   seconds, not minutes); the outcome is recorded in the store right away;
6. a delivery that still fails for a transient reason (connection refused, timeout, 5xx,
   408, 429) is *parked* (:mod:`services.parking`): stored, committed before the offset, and
   retried by the drainer with growing delays over ``parking.horizon_s`` (24 h by default),
   without holding up the consumer or other receivers. While a ticket has parked work at a
   receiver, its newer versions park behind it, replacing the older parked version (the
   receiver needs the newest state). Each receiver has a circuit: open after repeated
   transient failures (deliveries to it are parked at once, a probe now and then), closed
   by a success, and then its parked backlog drains by itself, in order;
7. an event with a permanent failure (another 4xx, a missing secret) becomes one dead letter
   at once (the original bytes, key and headers, with the reasons), which
   ``schakel deadletter replay`` sends back to the topic; so does parked work given up at
   the end of the horizon.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import ValidationError

from schemas import CloudEvent, RoutedTicket
from schemas.audit import AuditEntry, AuditOutcome
from schemas.topics import gemeente_of_topic
from services.audit import audit_message
from services.config.models import (
    EmailChannel,
    Gemeente,
    SchakelConfig,
    TopdeskChannel,
    WebhookChannel,
)
from services.delivery._mail import EmailSink
from services.delivery._topdesk import TopdeskSink
from services.delivery._webhook import WebhookSink
from services.delivery.channels import (
    Channel,
    ChannelConfig,
    Delivery,
    Receipt,
    channel_id,
    channel_target,
    idempotency_key,
)
from services.delivery.errors import (
    Backpressure,
    ChannelFault,
    DeliveryError,
    InvalidRoutedEvent,
    ReceiverRejected,
    TransientDeliveryError,
    UndeliverableEvent,
    UnknownGemeente,
)
from services.delivery.retry import deliver_with_retries
from services.delivery.store import DeliveryStore, Thread, ThreadState
from services.errors import RejectedRecord
from services.logs import get_logger
from services.messaging import OutboundMessage, Publisher, RawRecord, reject
from services.observability import DELIVERIES
from services.parking import (
    Circuits,
    Drainer,
    Outcome,
    Parked,
    ParkingLot,
    ParkingPolicy,
    first_retry_at,
)
from services.retrying import RetryPolicy

__all__ = [
    "SERVICE",
    "BatchResult",
    "ChannelFactory",
    "Deliverer",
    "DeliveryOptions",
    "Sinks",
]

SERVICE = "delivery"
_ROUTED = CloudEvent[RoutedTicket]

log = get_logger(__name__)

#: builds the sink of one configured channel (tests pass fakes)
ChannelFactory = Callable[[ChannelConfig], Channel]


@dataclass(frozen=True, slots=True)
class DeliveryOptions:
    """Retry timing and concurrency of the delivery service (settings ``SCHAKEL_DELIVERY_*``).

    ``default_max_attempts`` applies to channels whose config sets none (e-mail, TOPdesk);
    a webhook channel's ``max_attempts`` wins. Tests shrink ``backoff_initial_s``.
    """

    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0
    retry_after_cap_s: float = 60.0
    max_elapsed_s: float = 10.0
    default_max_attempts: int = 5
    concurrency: int = 32
    smtp_timeout_s: float = 30.0
    topdesk_timeout_s: float = 15.0
    #: what is still failing after the attempts in the batch waits here (settings SCHAKEL_PARK_*)
    parking: ParkingPolicy = field(default_factory=ParkingPolicy)

    def policy(self, config: ChannelConfig) -> RetryPolicy:
        attempts = (
            config.max_attempts if isinstance(config, WebhookChannel) else self.default_max_attempts
        )
        return RetryPolicy(
            max_attempts=attempts,
            backoff_initial_s=self.backoff_initial_s,
            backoff_max_s=self.backoff_max_s,
            retry_after_cap_s=self.retry_after_cap_s,
            max_elapsed_s=self.max_elapsed_s,
        )

    @classmethod
    def from_settings(cls, settings: object) -> DeliveryOptions:
        """Options from ``Settings`` fields named ``delivery_<option>``, where present."""
        values: dict[str, Any] = {
            f.name: getattr(settings, f"delivery_{f.name}")
            for f in dataclasses.fields(cls)
            if getattr(settings, f"delivery_{f.name}", None) is not None
        }
        values["parking"] = ParkingPolicy.from_settings(settings)
        return cls(**values)


class Sinks:
    """The production channel factory: real sinks sharing one pooled HTTP client."""

    def __init__(self, options: DeliveryOptions) -> None:
        self._options = options
        self._client = httpx.AsyncClient(
            follow_redirects=False,
            limits=httpx.Limits(max_connections=max(10, options.concurrency * 2)),
            headers={"User-Agent": "schakel-delivery/1"},
        )

    def __call__(self, config: ChannelConfig) -> Channel:
        if isinstance(config, WebhookChannel):
            return WebhookSink(config, self._client)
        if isinstance(config, EmailChannel):
            return EmailSink(config, timeout_s=self._options.smtp_timeout_s)
        if isinstance(config, TopdeskChannel):
            return TopdeskSink(config, self._client, timeout_s=self._options.topdesk_timeout_s)
        raise TypeError(f"no sink for channel type {type(config).__name__}")

    async def aclose(self) -> None:
        await self._client.aclose()


@dataclass(frozen=True, slots=True)
class _Route:
    """One configured channel of one team, ready to deliver."""

    gemeente: str
    team: str
    channel: str
    target: str
    sink: Channel
    policy: RetryPolicy

    @property
    def lane(self) -> str:
        """The receiver, as parked work and circuits name it."""
        return f"{self.gemeente}/{self.team}/{self.channel}"


@dataclass(slots=True)
class _Failure:
    label: str
    error: BaseException
    reason: str


@dataclass(slots=True)
class _Plan:
    """One consumed record: its deliveries, and what went wrong."""

    record: RawRecord
    hub_id: str | None = None
    deliveries: list[tuple[Delivery, _Route]] = field(default_factory=list)
    failures: list[_Failure] = field(default_factory=list)


@dataclass(slots=True)
class BatchResult:
    """Dead letters to publish, and counts for logs and tests."""

    dead_letters: list[OutboundMessage] = field(default_factory=list)
    #: one audit event per delivery outcome (schakel.audit.v1), sent with the dead letters
    audit: list[OutboundMessage] = field(default_factory=list)
    delivered: int = 0
    already_delivered: int = 0
    superseded: int = 0
    failed: int = 0
    parked: int = 0
    rejected: int = 0
    foreign_recipients: int = 0


class Deliverer:
    """Delivers batches of routed events to the FB teams' channels.

    ``store`` is an open :class:`DeliveryStore` or its URL (opened on :meth:`start`);
    ``channels`` builds a sink per configured channel (default: :class:`Sinks`).
    """

    def __init__(
        self,
        gemeenten: Iterable[Gemeente],
        store: DeliveryStore | str,
        *,
        channels: ChannelFactory | None = None,
        options: DeliveryOptions | None = None,
    ) -> None:
        self.options = options or DeliveryOptions()
        self._gemeenten = {g.code: g for g in gemeenten}
        self._store_or_url = store
        self._factory = channels
        self._owned_sinks: Sinks | None = None
        self._routes: dict[tuple[str, str], list[_Route]] = {}
        self._store: DeliveryStore | None = None
        self._start_lock = asyncio.Lock()
        self._lanes: dict[str, _Route] = {}
        self._lot: ParkingLot | None = None
        self._drainer: Drainer | None = None
        self._publisher: Publisher | None = None
        self.circuits = Circuits(SERVICE, self.options.parking)
        self._drain_limit = asyncio.Semaphore(self.options.concurrency)

    def use_publisher(self, publisher: Publisher) -> None:
        """The producer for what the drainer ends with (audit events, dead letters of work
        given up); without one, parked work is kept but not retried by this instance."""
        self._publisher = publisher

    @property
    def lot(self) -> ParkingLot:
        if self._lot is None:
            raise RuntimeError("Deliverer.start() has not run")
        return self._lot

    @property
    def store(self) -> DeliveryStore:
        if self._store is None:
            raise RuntimeError("Deliverer.start() has not run")
        return self._store

    async def start(self) -> None:
        """Open the store and build the sinks (idempotent; the first batch calls it too)."""
        async with self._start_lock:
            if self._store is not None:
                return
            factory = self._factory
            if factory is None:
                self._owned_sinks = Sinks(self.options)
                factory = self._owned_sinks
            self._routes = self._build_routes(factory)
            self._lanes = {r.lane: r for routes in self._routes.values() for r in routes}
            store = self._store_or_url
            self._store = await DeliveryStore.open(store) if isinstance(store, str) else store
            self._lot = ParkingLot(self._store.engine)
            self._drainer = Drainer(
                self._lot,
                SERVICE,
                self.circuits,
                self._retry_parked,
                self._give_up,
                policy=self.options.parking,
            )
            if self._publisher is not None:
                self._drainer.start()

    async def drain_once(self) -> int:
        """One round of retrying parked deliveries (the drainer does this every tick)."""
        await self.start()
        assert self._drainer is not None
        return await self._drainer.drain_once()

    async def aclose(self) -> None:
        """Close what :meth:`start` opened (the HTTP client, a store opened from a URL)."""
        if self._drainer is not None:
            await self._drainer.stop()
            self._drainer = None
        if self._owned_sinks is not None:
            await self._owned_sinks.aclose()
            self._owned_sinks = None
        if self._store is not None and isinstance(self._store_or_url, str):
            await self._store.close()
        self._store = None

    def _build_routes(self, factory: ChannelFactory) -> dict[tuple[str, str], list[_Route]]:
        routes: dict[tuple[str, str], list[_Route]] = {}
        for gemeente in self._gemeenten.values():
            for team in gemeente.teams:
                routes[(gemeente.code, team.id)] = [
                    _Route(
                        gemeente=gemeente.code,
                        team=team.id,
                        channel=channel_id(config),
                        target=channel_target(config),
                        sink=factory(config),
                        policy=self.options.policy(config),
                    )
                    for config in team.channels
                ]
        return routes

    # --- one batch ---------------------------------------------------------------------

    async def deliver_batch(self, records: Sequence[RawRecord]) -> BatchResult:
        """Deliver every record of the batch; return the dead letters to publish.

        Raises only when the store fails (the batch is then consumed again; what was
        delivered is recorded and skipped).
        """
        await self.start()
        result = BatchResult()
        plans = [self._plan(record, result) for record in records]
        chains: dict[Thread, list[tuple[_Plan, Delivery, _Route]]] = {}
        for plan in plans:
            for delivery, route in plan.deliveries:
                chains.setdefault(Thread.of(delivery), []).append((plan, delivery, route))
        if chains:
            keys = {d.idempotency_key for items in chains.values() for _, d, _ in items}
            done, states = await self.store.snapshot(keys, chains.keys())
            blocked = await self.lot.blocked(
                SERVICE, ((items[0][2].lane, t.hub_id) for t, items in chains.items())
            )
            semaphore = asyncio.Semaphore(self.options.concurrency)
            try:
                async with asyncio.TaskGroup() as group:
                    for thread, items in chains.items():
                        waits = (items[0][2].lane, thread.hub_id) in blocked
                        group.create_task(
                            self._run_chain(
                                items, done, states.get(thread), semaphore, waits, result
                            )
                        )
            except BaseExceptionGroup as failed:  # the store failed: the batch is redone
                raise failed.exceptions[0] from None
        for plan in plans:
            if plan.failures:
                result.dead_letters.append(self._dead_letter(plan))
        if result.dead_letters or result.failed or result.parked:
            log.debug(
                "delivery batch done",
                records=len(records),
                delivered=result.delivered,
                failed=result.failed,
                parked=result.parked,
                dead_letters=len(result.dead_letters),
            )
        return result

    def _plan(self, record: RawRecord, result: BatchResult) -> _Plan:
        plan = _Plan(record)
        try:
            self._fill(plan, result)
        except RejectedRecord as error:
            plan.deliveries.clear()
            plan.failures.append(_Failure("event", error, error.reason))
            result.rejected += 1
        return plan

    def _fill(self, plan: _Plan, result: BatchResult) -> None:
        record = plan.record
        code = gemeente_of_topic(record.topic)
        gemeente = self._gemeenten.get(code or "")
        if code is None or gemeente is None:
            raise UnknownGemeente(f"topic '{record.topic}' names no gemeente of the configuration")
        value = record.value or b""
        try:
            event = _ROUTED.model_validate_json(value)
        except ValidationError as error:
            raise InvalidRoutedEvent(
                f"not a RoutedTicket CloudEvent: {error.error_count()} error(s), first: "
                f"{_first_error(error)}"
            ) from None
        routed = event.data
        hub = plan.hub_id = routed.ticket.hub_id
        teams: list[str] = []
        for recipient in routed.decision.recipients:
            if recipient.gemeente != code:
                result.foreign_recipients += 1
                log.error(
                    "recipient outside the topic's gemeente ignored (router bug)",
                    hub_id=hub,
                    event_id=event.id,
                    topic=record.topic,
                    recipient_gemeente=recipient.gemeente,
                    recipient_team=recipient.team,
                )
                continue
            if recipient.team not in teams:
                teams.append(recipient.team)
        if not teams:
            raise UndeliverableEvent(f"the event names no recipient of {code}")
        for team in teams:
            routes = self._routes.get((code, team))
            if routes is None:
                missing = UndeliverableEvent(f"{code} has no team '{team}' in the configuration")
                plan.failures.append(_Failure(f"{code}/{team}", missing, missing.reason))
                continue
            for route in routes:
                delivery = Delivery(
                    event_id=event.id,
                    hub_id=hub,
                    gemeente=code,
                    team=team,
                    channel=route.channel,
                    kind=routed.kind,
                    routed=routed,
                    idempotency_key=idempotency_key(event.id, code, team, route.channel),
                    body=value,
                )
                plan.deliveries.append((delivery, route))

    async def _run_chain(
        self,
        items: list[tuple[_Plan, Delivery, _Route]],
        done: set[str],
        state: ThreadState | None,
        semaphore: asyncio.Semaphore,
        waits: bool,
        result: BatchResult,
    ) -> None:
        """The deliveries of one ticket to one channel, in order; once one is parked (or the
        ticket has parked work there already) the rest park behind it."""
        for plan, delivery, route in items:
            if delivery.idempotency_key in done:
                result.already_delivered += 1
                continue
            if state is not None and delivery.version < state.last_version:
                await self.store.record_superseded(delivery)
                result.audit.append(_audit(delivery, "superseded", "skipped", route.target))
                result.superseded += 1
                continue
            if state is not None and state.receiver_ref:
                delivery = dataclasses.replace(delivery, receiver_ref=state.receiver_ref)
            circuit = self.circuits(route.lane)
            if waits or not circuit.allows(datetime.now(UTC)):
                why = "waiting behind parked work" if waits else "the receiver's circuit is open"
                await self._park(plan, delivery, route, why, None, result)
                waits = True
                continue
            try:
                attempted = await deliver_with_retries(
                    functools.partial(_attempt, route.sink, semaphore=semaphore),
                    delivery,
                    route.policy,
                    on_retry=_log_retry,
                )
            except DeliveryError as error:
                if isinstance(error, TransientDeliveryError):
                    circuit.failed(datetime.now(UTC), error.reason)
                    retry_after = error.retry_after if isinstance(error, Backpressure) else None
                    reason = f"{error.reason} (after {error.attempts} attempt(s))"
                    await self._park(plan, delivery, route, reason, retry_after, result)
                    waits = True
                    continue
                await self.store.record_failed(delivery, error.reason, error.attempts)
                label = f"{route.team}/{route.channel} ({route.target})"
                reason = f"{error.reason} (after {error.attempts} attempt(s))"
                plan.failures.append(_Failure(label, error, reason))
                result.audit.append(
                    _audit(delivery, "failed", "failed", route.target, error.attempts, reason)
                )
                result.failed += 1
                continue
            if circuit.succeeded() and self._drainer is not None:
                await self._drainer.closed(route.lane)
            receipt = attempted.receipt
            await self.store.record_delivered(delivery, receipt, attempted.attempts)
            result.audit.append(
                _audit(delivery, "delivered", "ok", route.target, attempted.attempts, receipt)
            )
            done.add(delivery.idempotency_key)
            state = ThreadState(
                (state.receiver_ref if state is not None else None) or receipt.receiver_ref,
                max(delivery.version, state.last_version if state is not None else 0),
            )
            result.delivered += 1

    # --- parked work -------------------------------------------------------------------

    async def _park(
        self,
        plan: _Plan,
        delivery: Delivery,
        route: _Route,
        reason: str,
        retry_after: float | None,
        result: BatchResult,
    ) -> None:
        """Park one delivery (committed before the batch's offset is)."""
        now = datetime.now(UTC)
        record = plan.record
        outcome, replaced = await self.lot.park(
            Parked(
                service=SERVICE,
                lane=route.lane,
                thread=delivery.hub_id,
                key=delivery.idempotency_key,
                supersedes=True,
                version=delivery.version,
                value=record.value or b"",
                record_key=record.key,
                headers=tuple((n, v or b"") for n, v in record.headers or ()),
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                attempts=1,
                first_failed_at=now,
                next_attempt_at=first_retry_at(now, self.options.parking, retry_after),
                last_error=reason,
            )
        )
        if outcome == "superseded":
            await self.store.record_superseded(delivery)
            result.audit.append(_audit(delivery, "superseded", "skipped", route.target))
            result.superseded += 1
            return
        result.superseded += len(replaced)
        result.parked += 1
        log.info(
            "delivery parked",
            hub_id=delivery.hub_id,
            event_id=delivery.event_id,
            receiver=route.lane,
            circuit=self.circuits.state(route.lane),
            replaced=len(replaced),
            reason=reason[:300],
        )

    def _parked_delivery(self, item: Parked) -> tuple[Delivery, _Route] | None:
        route = self._lanes.get(item.lane)
        if route is None:
            return None
        event = _ROUTED.model_validate_json(item.value)  # it was read before it was parked
        routed = event.data
        delivery = Delivery(
            event_id=event.id,
            hub_id=item.thread,
            gemeente=route.gemeente,
            team=route.team,
            channel=route.channel,
            kind=routed.kind,
            routed=routed,
            idempotency_key=item.key,
            body=item.value,
        )
        return delivery, route

    async def _retry_parked(self, item: Parked) -> Outcome:
        """One retry of a parked delivery (the drainer's attempt)."""
        found = self._parked_delivery(item)
        if found is None:
            return Outcome("permanent", f"receiver {item.lane} is no longer configured")
        delivery, route = found
        thread = Thread.of(delivery)
        done, states = await self.store.snapshot({delivery.idempotency_key}, [thread])
        if delivery.idempotency_key in done:
            return Outcome.ok()
        state = states.get(thread)
        audit: list[OutboundMessage] = []
        if state is not None and delivery.version < state.last_version:
            await self.store.record_superseded(delivery)
            audit.append(_audit(delivery, "superseded", "skipped", route.target))
        else:
            if state is not None and state.receiver_ref:
                delivery = dataclasses.replace(delivery, receiver_ref=state.receiver_ref)
            try:
                receipt = await _attempt(route.sink, delivery, semaphore=self._drain_limit)
            except Backpressure as error:
                return Outcome("transient", error.reason, error.retry_after)
            except TransientDeliveryError as error:
                return Outcome("transient", error.reason)
            except DeliveryError as error:
                return Outcome("permanent", error.reason)
            attempts = item.attempts + 1
            await self.store.record_delivered(delivery, receipt, attempts)
            audit.append(_audit(delivery, "delivered", "ok", route.target, attempts, receipt))
            log.info(
                "parked delivery delivered",
                hub_id=delivery.hub_id,
                event_id=delivery.event_id,
                receiver=route.lane,
                attempts=attempts,
                parked_s=round((datetime.now(UTC) - item.first_failed_at).total_seconds(), 1),
            )
        if self._publisher is not None:
            await self._publisher.send_all(audit)
        return Outcome.ok()

    async def _give_up(self, item: Parked, reason: str) -> None:
        """A parked delivery refused for good, or out of time: its dead letter, now."""
        found = self._parked_delivery(item)
        error: DeliveryError = (
            TransientDeliveryError(reason)
            if "given up after" in reason
            else ReceiverRejected(reason)
        )
        label = item.lane
        messages: list[OutboundMessage] = []
        if found is not None:
            delivery, route = found
            await self.store.record_failed(delivery, reason, item.attempts)
            label = f"{route.team}/{route.channel} ({route.target})"
            messages.append(
                _audit(delivery, "failed", "failed", route.target, item.attempts, reason)
            )
        messages.insert(
            0,
            reject(
                item.record,
                error,
                f"delivery failed: {label}: {reason}",
                service=SERVICE,
                hub_id=item.thread,
            ),
        )
        if self._publisher is None:
            raise RuntimeError("no publisher for the dead letter of parked work")
        await self._publisher.send_all(messages)

    def _dead_letter(self, plan: _Plan) -> OutboundMessage:
        record = plan.record
        reasons = "; ".join(f"{f.label}: {f.reason}" for f in plan.failures)
        first = plan.failures[0].error
        return reject(
            record, first, f"delivery failed: {reasons}", service=SERVICE, hub_id=plan.hub_id
        )


def _audit(
    delivery: Delivery,
    result: str,
    outcome: AuditOutcome,
    target: str,
    attempts: int | None = None,
    about: str | Receipt | None = None,
) -> OutboundMessage:
    """The audit event of one delivery outcome (its id: the idempotency key and result)."""
    DELIVERIES.labels(delivery.channel.split("-", 1)[0], result).inc()
    receipt = about if isinstance(about, Receipt) else None
    words = {
        "delivered": f"afgeleverd aan {delivery.team} via {delivery.channel} ({target})",
        "failed": f"aflevering aan {delivery.team} via {delivery.channel} mislukt: {about}",
        "superseded": f"niet afgeleverd aan {delivery.team}: een nieuwere versie ging voor",
    }
    entry = AuditEntry(
        action=f"delivery.{result}",
        outcome=outcome,
        actor=SERVICE,
        hub_id=delivery.hub_id,
        at=datetime.now(UTC),
        summary=words[result],
        gemeente=delivery.gemeente,
        team=delivery.team,
        channel=delivery.channel,
        attempts=attempts,
        reference=delivery.event_id,
        detail={
            "version": delivery.version,
            "target": target,
            "receipt": receipt.status if receipt else None,
            "receiver_ref": receipt.receiver_ref if receipt else None,
            "receiver_number": receipt.receiver_number if receipt else None,
        },
    )
    return audit_message(entry, delivery.idempotency_key, result)


async def _attempt(sink: Channel, delivery: Delivery, *, semaphore: asyncio.Semaphore) -> Receipt:
    async with semaphore:
        try:
            return await sink.deliver(delivery)
        except DeliveryError:
            raise
        except Exception as error:
            log.exception(
                "channel failed unexpectedly",
                hub_id=delivery.hub_id,
                event_id=delivery.event_id,
                channel=delivery.channel,
            )
            raise ChannelFault(f"channel {delivery.channel}: {error!r}") from error


def _log_retry(delivery: Delivery, error: DeliveryError, attempt: int, wait_s: float) -> None:
    log.warning(
        "delivery failed, retrying",
        hub_id=delivery.hub_id,
        event_id=delivery.event_id,
        gemeente=delivery.gemeente,
        team=delivery.team,
        channel=delivery.channel,
        attempt=attempt,
        wait_s=round(wait_s, 3),
        error_class=type(error).__name__,
        reason=error.reason[:300],
    )


def _first_error(error: ValidationError) -> str:
    first: Mapping[str, Any] = error.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(part) for part in first.get("loc", ()))
    return f"{where}: {first.get('msg', '')}"


def build_deliverer(
    config: SchakelConfig,
    *,
    store: DeliveryStore | str,
    options: DeliveryOptions | None = None,
    channels: ChannelFactory | None = None,
) -> Deliverer:
    """The deliverer for every gemeente of ``config``."""
    return Deliverer(config.gemeenten, store, channels=channels, options=options)
