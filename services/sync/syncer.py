"""The sync service's logic: replies in, native commands out, the supplier's API called.

Per consumed batch of ``schakel.replies.v1`` (an *idempotent consumer* in front of a
*message translator*, EIP):

1. every record is read as a :class:`~schemas.replies.ReplyEvent`; what is not one is a
   dead letter;
2. a reply whose id is already applied (``replies_applied``) is skipped: a reply delivered
   twice reaches the supplier once. A later reply reusing the id with other content is
   skipped too, with a warning;
3. the correlation gives the supplier's record; the reply must come from a team the ticket
   was routed to (replies from Kafka are checked as strictly as those from the HTTP API);
4. the supplier's connector translates it (:mod:`connectors.outbound`) into commands,
   marked so that their echo is recognised;
5. all commands of the batch are published on ``schakel.outbound.<supplier>`` and
   acknowledged (header ``schakel-sent-by``: ``hub`` when step 6 sends them, so the topic is
   the audit trail; ``supplier`` when the supplier consumes and applies them itself);
6. where the supplier has an ``api_base_url``, the commands are sent (tickets in parallel,
   the replies of one ticket in order, the steps of one reply in order, continuing after the
   steps a retried reply already got through); what the supplier refuses (another 4xx) is
   dead-lettered at once with the original reply bytes and the reason. What fails for a
   transient reason (connection refused, timeout, 5xx, 408, 429) after a few attempts is
   *parked* (:mod:`services.parking`, committed before the offset) and retried by the
   drainer with growing delays over the horizon (24 h by default); later replies of that
   ticket park behind it, so they reach the supplier in order. Each supplier API has a
   circuit: open after repeated failures (replies park at once, a probe now and then),
   closed by a success, and then the parked backlog drains by itself, in order;
7. every outcome is stored; the dead letters are published and acknowledged; then the
   batch is committed by the caller.

If publishing or the store fails, the exception propagates, the batch is not committed and
is consumed again; applied replies are then skipped (step 2).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson
from pydantic import ValidationError

from connectors import ConnectorError, SupplierContext
from connectors.outbound import ReplyTarget, outbound_for
from schemas import EntityKind, SupplierRef, SupplierSystem, derived_id
from schemas.audit import AuditEntry, AuditOutcome
from schemas.replies import OutboundCommand, Reply, ReplyAction, ReplyEvent
from schemas.topics import outbound_topic
from schemas.wire import (
    COMMAND_ID,
    CONTENT_TYPE,
    CORRELATION_ID,
    HUB_ID,
    JSON,
    REPLY_ID,
    SENT_BY,
    SENT_BY_HUB,
    SENT_BY_SUPPLIER,
    header_value,
)
from services.audit import audit_message
from services.config import SchakelConfig, SupplierConfig, supplier_contexts
from services.logs import get_logger
from services.messaging import OutboundMessage, Publisher, RawRecord, dead_letter
from services.parking import (
    Circuits,
    Drainer,
    Outcome,
    Parked,
    ParkingLot,
    ParkingPolicy,
    first_retry_at,
)
from services.sync.errors import (
    NotRoutedToTeam,
    ReplyRefused,
    SupplierCallFailed,
    SupplierUnavailable,
    SyncError,
    UnknownTicket,
    UnreadableReply,
    Untranslatable,
)
from services.sync.supplier_api import SupplierApi
from services.tickets import Correlation, CorrelationStore, ReplyRecord

__all__ = [
    "SERVICE",
    "BatchResult",
    "Syncer",
    "command_message",
    "decode_reply",
    "plan_commands",
    "reply_digest",
]

SERVICE = "sync"

#: What Schakel's own write makes of the ticket; its echo produces no event to say so.
_EXPECTED_STATUS = {
    ReplyAction.REJECT_RESOLUTION: "in_progress",
    ReplyAction.ACCEPT_RESOLUTION: "closed",
}

log = get_logger(__name__)


@dataclass(slots=True)
class BatchResult:
    applied: int = 0
    published: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    parked: int = 0
    commands: int = 0
    dead_letters: list[OutboundMessage] = field(default_factory=list)
    #: one audit event per reply outcome at the supplier (schakel.audit.v1)
    audit: list[OutboundMessage] = field(default_factory=list)


@dataclass(slots=True)
class _Work:
    """One reply to apply: where it came from, what it becomes, how far it got before."""

    record: RawRecord
    reply: Reply
    supplier: SupplierConfig
    commands: list[OutboundCommand]
    steps_done: int
    correlation_id: str


def decode_reply(value: bytes | None) -> ReplyEvent:
    """A record of ``schakel.replies.v1`` as a :class:`ReplyEvent`."""
    if not value:
        raise UnreadableReply("empty record")
    try:
        return ReplyEvent.model_validate_json(value)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "event"
        raise UnreadableReply(f"not a reply event: {where}: {first['msg']}") from None


def reply_digest(reply: Reply) -> str:
    """What a reply says, for telling a redelivery from a reused id."""
    content = reply.model_dump(mode="json", exclude={"reply_id", "created_at", "author"})
    return hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()


def plan_commands(
    reply: Reply, correlation: Correlation, ctx: SupplierContext
) -> list[OutboundCommand]:
    """The native commands of ``reply`` for the supplier's record (pure)."""
    system = SupplierSystem(correlation.system)
    ref = SupplierRef(
        supplier=correlation.supplier,
        system=system,
        record_id=correlation.record_id,
        number=correlation.number,
        correlation_id=correlation.supplier_correlation_id,
    )
    target = ReplyTarget(EntityKind(correlation.kind), ref)
    try:
        requests = outbound_for(system)(reply, target, ctx)
    except ConnectorError as exc:
        raise Untranslatable(exc.reason) from None
    steps = len(requests)
    return [
        OutboundCommand(
            command_id=derived_id("outbound", reply.reply_id, str(step)),
            reply_id=reply.reply_id,
            hub_id=reply.hub_id,
            supplier=correlation.supplier,
            system=system,
            action=reply.action,
            step=step,
            steps=steps,
            method=request.method,
            path=request.path,
            body=request.body,
            headers=dict(request.headers),
            supplier_ref=ref,
            created_at=reply.created_at,
        )
        for step, request in enumerate(requests)
    ]


def command_message(
    command: OutboundCommand, correlation_id: str, *, sent_by_hub: bool = False
) -> OutboundMessage:
    """A command as it goes on ``schakel.outbound.<supplier>``, keyed by the hub id.

    Header ``schakel-sent-by``: ``hub`` when the sync service itself sends it to the
    supplier's API (the record is then the audit trail, a wire tap: a supplier must not apply
    it again), ``supplier`` when the supplier is to consume and apply it.
    """
    hub = command.hub_id.encode()
    return OutboundMessage(
        topic=outbound_topic(command.supplier),
        value=command.model_dump_json().encode(),
        key=hub,
        headers=(
            (CONTENT_TYPE, JSON),
            (HUB_ID, hub),
            (REPLY_ID, command.reply_id.encode()),
            (COMMAND_ID, command.command_id.encode()),
            (CORRELATION_ID, correlation_id.encode()),
            (SENT_BY, SENT_BY_HUB if sent_by_hub else SENT_BY_SUPPLIER),
        ),
    )


class Syncer:
    """Applies batches of replies; see the module docstring for the steps."""

    def __init__(
        self,
        config: SchakelConfig,
        store: CorrelationStore,
        publisher: Publisher,
        api: SupplierApi | None,
        *,
        concurrency: int = 8,
        parking: ParkingPolicy | None = None,
    ) -> None:
        self.store = store
        self.publisher = publisher
        self.api = api
        self._suppliers = {s.id: s for s in config.suppliers}
        self._contexts = supplier_contexts(config)
        self._limit = asyncio.Semaphore(concurrency)
        self.parking = parking or ParkingPolicy()
        self.circuits = Circuits(SERVICE, self.parking)
        self._lot: ParkingLot | None = None
        self._drainer: Drainer | None = None

    async def lot(self) -> ParkingLot:
        """The parked replies (in the correlation store's database)."""
        if self._lot is None:
            self._lot = ParkingLot(await self.store.engine())
            self._drainer = Drainer(
                self._lot,
                SERVICE,
                self.circuits,
                self._retry_parked,
                self._give_up,
                policy=self.parking,
            )
        return self._lot

    async def start(self) -> None:
        """Start retrying parked replies in the background (at start-up: parked work drains
        without new traffic too)."""
        await self.lot()
        assert self._drainer is not None
        self._drainer.start()

    async def stop(self) -> None:
        if self._drainer is not None:
            await self._drainer.stop()

    async def drain_once(self) -> int:
        """One round of retrying parked replies (the drainer does this every tick)."""
        await self.lot()
        assert self._drainer is not None
        return await self._drainer.drain_once()

    async def sync_batch(self, records: Sequence[RawRecord]) -> BatchResult:
        result = BatchResult()
        work = await self._plan(records, result)
        messages = [
            command_message(c, w.correlation_id, sent_by_hub=self._calls(w.supplier))
            for w in work
            for c in w.commands
        ]
        if messages:
            await self.publisher.send_all(messages)
            result.commands += len(messages)
        by_hub: dict[str, list[_Work]] = {}
        for item in work:
            by_hub.setdefault(item.reply.hub_id, []).append(item)
        lot = await self.lot()
        blocked = await lot.blocked(SERVICE, ((w.supplier.id, w.reply.hub_id) for w in work))
        async with asyncio.TaskGroup() as group:
            for hub, items in by_hub.items():
                waits = (items[0].supplier.id, hub) in blocked
                group.create_task(self._apply_in_order(items, waits, result))
        if result.dead_letters or result.audit:
            await self.publisher.send_all([*result.dead_letters, *result.audit])
        return result

    # -- planning: read, de-duplicate, authorise, translate --------------------------------

    async def _plan(self, records: Sequence[RawRecord], result: BatchResult) -> list[_Work]:
        decoded: list[tuple[RawRecord, ReplyEvent]] = []
        for record in records:
            try:
                decoded.append((record, decode_reply(record.value)))
            except UnreadableReply as exc:
                self._dead_letter(record, exc, result, hub_id=None, reply_id=None)
        if not decoded:
            return []
        replies = [event.data for _, event in decoded]
        known = await self.store.replies([r.reply_id for r in replies])
        hubs = {r.hub_id for r in replies}
        correlations = await self.store.correlations(hubs)
        routes = await self.store.routes(hubs)
        seen: set[str] = set()
        work: list[_Work] = []
        for record, event in decoded:
            reply = event.data
            digest = reply_digest(reply)
            before = known.get(reply.reply_id)
            if reply.reply_id in seen or (before is not None and before.final):
                result.duplicates += 1
                reused = before is not None and before.digest != digest
                (log.warning if reused else log.info)(
                    "reply id reused with other content; ignored"
                    if reused
                    else "reply delivered again; applied once",
                    hub_id=reply.hub_id,
                    reply_id=reply.reply_id,
                    correlation_id=header_value(record.headers, CORRELATION_ID) or reply.reply_id,
                    team=reply.team,
                )
                continue
            seen.add(reply.reply_id)
            correlation_id = header_value(record.headers, CORRELATION_ID) or reply.reply_id
            try:
                item = self._work(record, reply, correlations, routes, before, correlation_id)
            except ReplyRefused as exc:
                await self._save(reply, digest, "refused", error=exc.reason, before=before)
                self._dead_letter(record, exc, result, reply.hub_id, reply.reply_id)
                continue
            work.append(item)
        return work

    def _work(
        self,
        record: RawRecord,
        reply: Reply,
        correlations: Mapping[str, Correlation],
        routes: Mapping[str, set[tuple[str, str]]],
        before: ReplyRecord | None,
        correlation_id: str,
    ) -> _Work:
        correlation = correlations.get(reply.hub_id)
        if correlation is None:
            raise UnknownTicket(f"no correlation for hub id {reply.hub_id}")
        if (reply.gemeente, reply.team) not in routes.get(reply.hub_id, set()):
            raise NotRoutedToTeam(
                f"the ticket was not routed to team {reply.team} of {reply.gemeente}"
            )
        supplier = self._suppliers.get(correlation.supplier)
        if supplier is None:
            raise UnknownTicket(f"supplier '{correlation.supplier}' is not configured")
        commands = plan_commands(reply, correlation, self._contexts[supplier.id])
        done = before.steps_done if before is not None else 0
        return _Work(record, reply, supplier, commands, min(done, len(commands)), correlation_id)

    # -- applying --------------------------------------------------------------------------

    def _calls(self, supplier: SupplierConfig) -> bool:
        """Whether the hub sends commands to this supplier's API itself."""
        return self.api is not None and supplier.credentials.api_base_url is not None

    async def _apply_in_order(
        self, items: Iterable[_Work], waits: bool, result: BatchResult
    ) -> None:
        """The replies of one ticket, in order; once one is parked (or the ticket has parked
        replies already) the rest park behind it."""
        async with self._limit:
            for item in items:
                if not self._calls(item.supplier):
                    await self._apply(item, result)
                    continue
                circuit = self.circuits(item.supplier.id)
                if waits or not circuit.allows(datetime.now(UTC)):
                    why = "waiting behind a parked reply" if waits else "the API's circuit is open"
                    await self._park(item, why, None, result)
                    waits = True
                    continue
                unavailable = await self._apply(item, result)
                if unavailable is not None:
                    circuit.failed(datetime.now(UTC), unavailable.reason)
                    await self._park(item, unavailable.reason, unavailable.retry_after, result)
                    waits = True
                elif circuit.succeeded() and self._drainer is not None:
                    await self._drainer.closed(item.supplier.id)

    async def _park(
        self, item: _Work, reason: str, retry_after: float | None, result: BatchResult
    ) -> None:
        """Park one reply (committed before the batch's offset is)."""
        now = datetime.now(UTC)
        record = item.record
        lot = await self.lot()
        await lot.park(
            Parked(
                service=SERVICE,
                lane=item.supplier.id,
                thread=item.reply.hub_id,
                key=item.reply.reply_id,
                supersedes=False,
                version=0,
                value=record.value or b"",
                record_key=record.key,
                headers=tuple((n, v or b"") for n, v in record.headers or ()),
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                attempts=1,
                first_failed_at=now,
                next_attempt_at=first_retry_at(now, self.parking, retry_after),
                last_error=reason,
            )
        )
        reply = item.reply
        await self._save_work(item, "parked", reason)
        result.parked += 1
        log.info(
            "reply parked",
            hub_id=reply.hub_id,
            reply_id=reply.reply_id,
            correlation_id=item.correlation_id,
            supplier=item.supplier.id,
            circuit=self.circuits.state(item.supplier.id),
            reason=reason[:300],
        )

    async def _rebuild(self, parked: Parked) -> _Work | ReplyRecord:
        """The work of a parked reply, planned again from its record (the correlation may
        have moved on); its ReplyRecord when it is final already."""
        record = parked.record
        reply = decode_reply(record.value).data
        before = (await self.store.replies([reply.reply_id])).get(reply.reply_id)
        if before is not None and before.final:
            return before
        hubs = {reply.hub_id}
        correlations = await self.store.correlations(hubs)
        routes = await self.store.routes(hubs)
        correlation_id = header_value(record.headers, CORRELATION_ID) or reply.reply_id
        return self._work(record, reply, correlations, routes, before, correlation_id)

    async def _retry_parked(self, parked: Parked) -> Outcome:
        """One retry of a parked reply (the drainer's attempt)."""
        try:
            item = await self._rebuild(parked)
        except SyncError as exc:  # unreadable or refused now: nothing to retry
            return Outcome("permanent", exc.reason)
        if isinstance(item, ReplyRecord):
            return Outcome.ok()
        result = BatchResult()
        unavailable = await self._apply(item, result)
        if result.dead_letters or result.audit:
            await self.publisher.send_all([*result.dead_letters, *result.audit])
        if unavailable is not None:
            await self._save_work(item, "parked", unavailable.reason)
            return Outcome("transient", unavailable.reason, unavailable.retry_after)
        return Outcome.ok()

    async def _give_up(self, parked: Parked, reason: str) -> None:
        """A parked reply refused for good, or out of time: its dead letter, now."""
        error: SyncError
        try:
            item = await self._rebuild(parked)
        except SyncError as exc:
            item, error = None, exc
        else:
            error = SupplierUnavailable(reason)
        result = BatchResult()
        if isinstance(item, _Work):
            await self._save_work(item, "failed", reason)
            result.audit.append(_audit(item, "failed", "failed", item.steps_done, 0, reason))
        error.reason = reason
        self._dead_letter(parked.record, error, result, parked.thread, parked.key)
        await self.publisher.send_all([*result.dead_letters, *result.audit])

    async def _apply(self, item: _Work, result: BatchResult) -> SupplierUnavailable | None:
        """Apply one reply; returns the transient failure when it is to be parked (the
        progress is saved), None when it was applied, published or refused for good."""
        reply = item.reply
        bound = log.bind(
            hub_id=reply.hub_id,
            reply_id=reply.reply_id,
            correlation_id=item.correlation_id,
            supplier=item.supplier.id,
            action=reply.action.value,
        )
        digest = reply_digest(reply)
        steps = len(item.commands)
        api = self.api
        if api is None or not self._calls(item.supplier):
            await self._save(reply, digest, "published", supplier=item.supplier.id, steps=steps)
            result.published += 1
            result.audit.append(_audit(item, "published", "ok", steps, 0))
            bound.info("reply published for the supplier to fetch", commands=steps)
            return None
        done = item.steps_done
        attempts = 0
        try:
            for command in item.commands[done:]:
                outcome = await api.send(item.supplier, command)
                attempts += outcome.attempts
                done += 1
                if done < steps:  # remember progress between the steps of one reply
                    await self._save(
                        reply,
                        digest,
                        "sending",
                        supplier=item.supplier.id,
                        steps=steps,
                        done=done,
                        attempts=attempts,
                    )
        except SupplierUnavailable as exc:
            attempts += exc.attempts
            if done:
                await self._save(
                    reply,
                    digest,
                    "sending",
                    supplier=item.supplier.id,
                    steps=steps,
                    done=done,
                    attempts=attempts,
                )
            item.steps_done = done
            return exc
        except SupplierCallFailed as exc:
            attempts += exc.attempts
            await self._save(
                reply,
                digest,
                "failed",
                supplier=item.supplier.id,
                steps=steps,
                done=done,
                attempts=attempts,
                error=exc.reason,
            )
            self._dead_letter(item.record, exc, result, reply.hub_id, reply.reply_id)
            result.audit.append(_audit(item, "failed", "failed", done, attempts, exc.reason))
            return None
        now = datetime.now(UTC)
        await self._save(
            reply,
            digest,
            "applied",
            supplier=item.supplier.id,
            steps=steps,
            done=done,
            attempts=attempts,
            applied_at=now,
        )
        expected = _EXPECTED_STATUS.get(reply.action)
        raised = reply.priority.value if reply.priority is not None else None
        if expected or raised:
            await self.store.expect(reply.hub_id, status=expected, priority=raised)
        result.applied += 1
        result.audit.append(_audit(item, "applied", "ok", done, attempts))
        bound.info("reply applied at the supplier", steps=steps, attempts=attempts)
        return None

    async def _save_work(self, item: _Work, status: str, error: str) -> None:
        """Store the state of a reply's work at the supplier: its steps and those done."""
        reply = item.reply
        await self._save(
            reply,
            reply_digest(reply),
            status,
            supplier=item.supplier.id,
            steps=len(item.commands),
            done=item.steps_done,
            error=error,
        )

    async def _save(
        self,
        reply: Reply,
        digest: str,
        status: str,
        *,
        supplier: str | None = None,
        steps: int = 0,
        done: int = 0,
        attempts: int = 0,
        error: str | None = None,
        applied_at: datetime | None = None,
        before: ReplyRecord | None = None,
    ) -> None:
        await self.store.save_reply(
            ReplyRecord(
                reply_id=reply.reply_id,
                hub_id=reply.hub_id,
                gemeente=reply.gemeente,
                team=reply.team,
                action=reply.action.value,
                digest=digest,
                status=status,
                supplier=supplier,
                steps_done=done if before is None else max(done, before.steps_done),
                steps_total=steps,
                attempts=attempts,
                error=error,
                created_at=reply.created_at,
                applied_at=applied_at,
            )
        )

    def _dead_letter(
        self,
        record: RawRecord,
        error: SyncError,
        result: BatchResult,
        hub_id: str | None,
        reply_id: str | None,
    ) -> None:
        result.dead_letters.append(
            dead_letter(
                value=record.value or b"",
                key=record.key,
                headers=record.headers or (),
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                error=error,
                reason=error.reason,
                service=SERVICE,
            )
        )
        result.dead_lettered += 1
        log.warning(
            "reply dead-lettered",
            hub_id=hub_id,
            reply_id=reply_id,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            error_class=type(error).__name__,
            reason=error.reason[:300],
        )


def _audit(
    item: _Work, result: str, outcome: AuditOutcome, done: int, attempts: int, error: str = ""
) -> OutboundMessage:
    """The audit event of one reply's outcome at the supplier (id: reply id and result)."""
    reply, supplier = item.reply, item.supplier.id
    calls = [f"{c.method} {c.path}" for c in item.commands]
    words = {
        "applied": f"{reply.action.value} van {reply.team} doorgezet naar {supplier}",
        "failed": f"{reply.action.value} van {reply.team} niet doorgezet naar {supplier}: {error}",
        "published": f"{reply.action.value} van {reply.team} klaargezet voor {supplier}",
    }
    entry = AuditEntry(
        action=f"sync.{result}",
        outcome=outcome,
        actor=SERVICE,
        hub_id=reply.hub_id,
        at=datetime.now(UTC),
        summary=words[result],
        gemeente=reply.gemeente,
        team=reply.team,
        supplier=supplier,
        attempts=attempts,
        reference=reply.reply_id,
        detail={
            "reply_action": reply.action.value,
            "steps_done": done,
            "steps": len(item.commands),
            "calls": "; ".join(calls),
            "correlation_id": item.correlation_id,
        },
    )
    return audit_message(entry, reply.reply_id, result)
