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
   steps a retried reply already got through); what fails after the retry limit, or is
   refused, is dead-lettered with the original reply bytes and the reason;
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
from services.sync.errors import (
    NotRoutedToTeam,
    ReplyRefused,
    SupplierCallFailed,
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
    ) -> None:
        self.store = store
        self.publisher = publisher
        self.api = api
        self._suppliers = {s.id: s for s in config.suppliers}
        self._contexts = supplier_contexts(config)
        self._limit = asyncio.Semaphore(concurrency)

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
        async with asyncio.TaskGroup() as group:
            for items in by_hub.values():
                group.create_task(self._apply_in_order(items, result))
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

    async def _apply_in_order(self, items: Iterable[_Work], result: BatchResult) -> None:
        async with self._limit:
            for item in items:
                await self._apply(item, result)

    async def _apply(self, item: _Work, result: BatchResult) -> None:
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
            return
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
            return
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
