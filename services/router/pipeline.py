"""The router: a normalised ticket event in, routed events and decisions out. No Kafka.

Per consumed record: read it (:mod:`.encoding`), decide where it goes (:mod:`.policy`, with
the explanation from :mod:`.wording`), write one routed event per destination
(:mod:`.encoding`) and one decision record to store. What a plan decides is cached: the many
updates of one ticket route at the cost of the rule evaluation alone. A record that cannot be
read, or that trips a bug, is a dead letter; nothing raises out of :meth:`Router.route_batch`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson

from schemas import EntityKind, RoutingDecision
from services.cmdb import CiTable
from services.config import SchakelConfig
from services.logs import get_logger
from services.messaging import OutboundMessage, RawRecord, reject
from services.router.encoding import (
    NormalisedEvent,
    RoutedEnvelope,
    decision_middle,
    decode_event,
    routed_event_id,
)
from services.router.errors import UnreadableEvent
from services.router.policy import (
    BASIS_CI_OWNER,
    BASIS_RULE,
    Destination,
    RoutingPolicy,
    Ticket,
    ticket_facts,
)
from services.router.rules import check_references

__all__ = [
    "DecisionRecord",
    "RouteResult",
    "Router",
]

SERVICE = "router"

#: (kind, supplier, priority, category, ci record id, ci name, CMDB hub id, rule hits)
_PlanKey = tuple[
    EntityKind,
    str,
    str | None,
    str | None,
    str | None,
    str | None,
    str | None,
    tuple[tuple[str, tuple[str, ...]], ...],
]

log = get_logger(__name__)


@dataclass(slots=True)
class DecisionRecord:
    """One decision to store: per normalised event and destination (idempotent on both).

    ``template`` is the decision as planned, shared by every event with the same routing
    inputs; ``hub_id``, ``event_id`` and ``decided_at`` are this event's.
    """

    destination: str  # gemeente code or "triage"
    routed_event_id: str
    kind: EntityKind
    version: int
    hub_id: str
    event_id: str
    decided_at: datetime
    template: RoutingDecision
    recipients_json: bytes = b""  # the template's recipients and inputs as JSON, made once
    inputs_json: bytes = b""

    @property
    def decision(self) -> RoutingDecision:
        """The decision of this event, as it is on the routed event."""
        return self.template.model_copy(
            update={"hub_id": self.hub_id, "event_id": self.event_id, "decided_at": self.decided_at}
        )


@dataclass(frozen=True, slots=True)
class _Planned:
    """A destination of a cached plan, with its decision's JSON between ``event_id`` and
    ``decided_at`` (the part every event with these routing inputs shares)."""

    destination: Destination
    middle: bytes
    recipients_json: bytes
    inputs_json: bytes


@dataclass(slots=True)
class RouteResult:
    """What one batch produced: messages to publish and decisions to store."""

    messages: list[OutboundMessage] = field(default_factory=list)
    decisions: list[DecisionRecord] = field(default_factory=list)
    routed: int = 0
    by_rule: int = 0
    by_ci_owner: int = 0
    triaged: int = 0
    dead_lettered: int = 0


class Router:
    """Decides where tickets go and builds the routed events. Pure apart from the CMDB
    table it reads, which the caller keeps up to date."""

    def __init__(
        self, config: SchakelConfig, cmdb: CiTable | None = None, *, cache_size: int = 20_000
    ) -> None:
        self.cmdb = cmdb if cmdb is not None else CiTable()
        self._cache_size = cache_size
        self._cache: dict[_PlanKey, tuple[_Planned, ...]] = {}
        self._cache_stamp = -1
        self.reload(config)

    def reload(self, config: SchakelConfig) -> list[str]:
        """Take a new configuration (rules, gemeenten); returns the reference warnings."""
        self.config = config
        self.policy = RoutingPolicy(config, self.cmdb)
        self._cache.clear()
        return self.check()

    def check(self) -> list[str]:
        """Warnings about rules and CMDB references (see :func:`.rules.check_references`)."""
        return check_references(self.config, self.cmdb)

    # --- deciding ------------------------------------------------------------------------

    def decide(
        self, ticket: Ticket, *, kind: EntityKind, event_id: str, now: datetime
    ) -> tuple[Destination, ...]:
        """Every destination of ``ticket``: one per gemeente, or the triage queue.

        ``now`` (aware) becomes ``decided_at``.
        """
        if now.tzinfo is None:
            raise ValueError("now must be an aware datetime")
        update = {"hub_id": ticket.hub_id, "event_id": event_id, "decided_at": now}
        destinations = []
        for planned in self._planned(ticket, kind):
            blank = planned.destination
            decision = blank.decision.model_copy(update=update)
            destinations.append(Destination(blank.gemeente, blank.topic, decision))
        return tuple(destinations)

    def _planned(self, ticket: Ticket, kind: EntityKind) -> tuple[_Planned, ...]:
        """The plan for ``ticket``, from the cache when nothing it depends on changed.

        The cache key is everything a plan depends on: the ticket's kind, supplier, priority,
        category and CI reference, the CI the CMDB resolves it to and the rules that match
        (with why). The cache is dropped whenever the CMDB or the configuration changes, so
        the many updates of one ticket route at the cost of the rule evaluation alone.
        """
        supplier = ticket.supplier_ref.supplier
        ref = ticket.ci
        ci = self.cmdb.resolve(supplier, ref)
        facts = ticket_facts(ticket, ci)
        hits = tuple(self.policy.hits(facts))
        key: _PlanKey = (
            kind,
            supplier,
            facts.priority,
            ticket.category,
            ref.record_id if ref is not None else None,
            ref.name if ref is not None else None,
            ci.hub_id if ci is not None else None,
            tuple((hit.rule.id, hit.reasons) for hit in hits),
        )
        if self._cache_stamp != self.cmdb.version:
            self._cache.clear()
            self._cache_stamp = self.cmdb.version
        planned = self._cache.get(key)
        if planned is None:
            destinations = self.policy.plan(
                kind, supplier, facts.priority, ticket.category, ref, ci, hits
            )
            planned = tuple(
                _Planned(
                    d,
                    decision_middle(d.decision),
                    orjson.dumps([r.model_dump(mode="json") for r in d.decision.recipients]),
                    orjson.dumps(d.decision.inputs),
                )
                for d in destinations
            )
            if len(self._cache) >= self._cache_size:
                self._cache.clear()
            self._cache[key] = planned
        return planned

    # --- events --------------------------------------------------------------------------

    def route(self, event: NormalisedEvent, result: RouteResult, now: datetime) -> None:
        """Append the routed events and decisions of one normalised event to ``result``:
        all of them, or (when this raises) none. ``now`` (aware) becomes ``decided_at``."""
        if now.tzinfo is None:
            raise ValueError("now must be an aware datetime")
        now = now.astimezone(UTC)
        ticket = event.ticket
        planned = self._planned(ticket, event.kind)
        envelope = RoutedEnvelope(event, now)
        messages: list[OutboundMessage] = []
        decisions: list[DecisionRecord] = []
        for plan in planned:
            destination = plan.destination
            name = destination.name
            routed_id = routed_event_id(event.id, name)
            messages.append(
                OutboundMessage(
                    destination.topic,
                    envelope.value(routed_id, plan.middle),
                    envelope.hub,
                    envelope.headers(routed_id, name),
                )
            )
            decisions.append(
                DecisionRecord(
                    name,
                    routed_id,
                    event.kind,
                    ticket.version,
                    ticket.hub_id,
                    event.id,
                    now,
                    destination.decision,
                    plan.recipients_json,
                    plan.inputs_json,
                )
            )
        result.messages += messages
        result.decisions += decisions
        basis = planned[0].destination.decision.basis
        if basis == BASIS_RULE:
            result.by_rule += 1
        elif basis == BASIS_CI_OWNER:
            result.by_ci_owner += 1
        else:
            result.triaged += 1
        result.routed += 1

    def route_batch(
        self, records: Iterable[RawRecord], *, now: datetime | None = None
    ) -> RouteResult:
        """Route a batch of consumed records; unreadable ones become dead letters.

        Nothing raises out of here: a bug on one record dead-letters that record only.
        """
        moment = now or datetime.now(UTC)
        if moment.tzinfo is None:
            raise ValueError("now must be an aware datetime")
        result = RouteResult()
        for record in records:
            value = record.value or b""
            try:
                event = decode_event(record.topic, value)
            except UnreadableEvent as exc:
                self._reject(record, exc, exc.reason, result)
                continue
            try:
                self.route(event, result, moment)
            except Exception as exc:  # a router bug must not block the partition
                log.exception(
                    "router bug; record dead-lettered",
                    hub_id=event.ticket.hub_id,
                    event_id=event.id,
                    topic=record.topic,
                    partition=record.partition,
                    offset=record.offset,
                )
                self._reject(record, exc, f"internal error: {exc!r}", result)
        return result

    def _reject(
        self, record: RawRecord, exc: BaseException, reason: str, result: RouteResult
    ) -> None:
        result.messages.append(reject(record, exc, reason, service=SERVICE))
        result.dead_lettered += 1
