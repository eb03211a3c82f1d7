"""The router's logic: a normalised ticket event in, routed events and decisions out. No Kafka.

A *content-based router* with a *recipient list* (EIP). For each incident or change event:

1. the CMDB finds the ticket's CI and the CIs that depend on it (:mod:`.cmdb`); the gemeenten
   owning any of them are the ticket's *owners*;
2. the rules are evaluated in file order (:mod:`.rules`); every matching rule adds its
   recipients, the first matching rule with ``stop`` ends the evaluation, and a rule whose
   recipients resolve to nobody (``ci-owners`` when there are no owners) counts as not matched;
3. when no rule matched, every owner receives the ticket (basis ``ci-owner``);
4. when there are no owners either, the regie's triage queue does (basis ``triage``).
   A ticket is never routed nowhere.

**Teams.** A recipient without a team, and every owner in step 3, gets per CI that makes it an
owner: the CI's ``fb_team`` if that gemeente has such a team, else the team owning the CI's
GEMMA component, else the gemeente's default team. A gemeente a rule names that owns none of
the CIs is judged by the ticket's own CI the same way. ``ci-owners`` with a named team gives
owners without that team their default team.

**Tenant isolation.** Every gemeente gets its own event on ``schakel.gemeente.<code>.v1``
whose decision lists only that gemeente's teams; its explanation and inputs name no other
gemeente. The triage queue gets one event on ``schakel.triage.v1``.

**Routed events.** ``type`` ``nl.itsm.<kind>.routed.v1``; ``id`` derived from the normalised
event id and the gemeente code (or ``triage``), so a redelivered event is routed to the same
ids; ``subject`` and key the hub id; ``source``, ``time`` and ``sequence`` those of the
normalised event; ``data`` a :class:`~schemas.RoutedTicket`. Explanations are in Dutch, the
language of the FB teams that read them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson
import pydantic_core
from pydantic import TypeAdapter, ValidationError

from schemas import (
    Change,
    CiRef,
    CloudEvent,
    ConfigurationItem,
    EntityKind,
    Incident,
    RecipientRef,
    RoutingDecision,
    derived_id,
    event_type,
)
from schemas.routing import ROUTED_DATASCHEMA
from schemas.topics import CHANGES, INCIDENTS, TRIAGE, gemeente_topic
from schemas.wire import (
    CLOUDEVENTS_JSON,
    CONTENT_TYPE,
    DESTINATION,
    EVENT_ID,
    HUB_ID,
    SOURCE_EVENT_ID,
)
from services.cmdb import Affected, CiTable
from services.config import CI_OWNERS, Gemeente, RoutingRule, SchakelConfig
from services.logs import get_logger
from services.messaging import OutboundMessage, RawRecord, reject
from services.router.errors import UnreadableEvent
from services.router.rules import RuleHit, RuleSet, TicketFacts, check_references, fold_text

__all__ = [
    "BASIS_CI_OWNER",
    "BASIS_RULE",
    "BASIS_TRIAGE",
    "TRIAGE_DESTINATION",
    "DecisionRecord",
    "Destination",
    "NormalisedEvent",
    "RouteResult",
    "Router",
    "Ticket",
    "decode_event",
    "routed_event_id",
]

Ticket = Incident | Change

BASIS_RULE = "rule"
BASIS_CI_OWNER = "ci-owner"
BASIS_TRIAGE = "triage"
#: The destination name of the triage queue, where a gemeente code would be.
TRIAGE_DESTINATION = "triage"
SERVICE = "router"
_MAX_NAMED = 3  # dependent CIs named in an explanation before "en N andere"

_BLANK_TIME = datetime(1970, 1, 1, tzinfo=UTC)
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

_ROUTED_TYPE = {k: event_type(k, "routed") for k in (EntityKind.INCIDENT, EntityKind.CHANGE)}
_KIND_OF_TOPIC = {INCIDENTS: EntityKind.INCIDENT, CHANGES: EntityKind.CHANGE}
_INCIDENT_EVENT = TypeAdapter(CloudEvent[Incident])
_CHANGE_EVENT = TypeAdapter(CloudEvent[Change])

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class NormalisedEvent:
    """The parts of a normalised incident or change event the router uses."""

    id: str
    source: str
    time: datetime
    supplierid: str
    kind: EntityKind
    ticket: Ticket


@dataclass(frozen=True, slots=True)
class Destination:
    """Where one routed event goes, with the decision as that receiver sees it."""

    gemeente: str | None  # None: the triage queue
    topic: str
    decision: RoutingDecision

    @property
    def name(self) -> str:
        """The gemeente code, or ``triage``."""
        return self.gemeente or TRIAGE_DESTINATION


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


def routed_event_id(event_id: str, destination: str) -> str:
    """The id of the routed event of normalised event ``event_id`` for ``destination``."""
    return derived_id("routed", event_id, destination)


def _envelope(event: NormalisedEvent, ticket_json: bytes) -> tuple[bytes, bytes]:
    """The routed CloudEvent of ``event`` around its id and decision: what comes after the
    id up to the decision's JSON, and before it. Byte for byte what ``encode_event(...,
    data=RoutedTicket(...))`` writes (a test holds the result to that)."""
    context = orjson.dumps(
        {
            "source": event.source,
            "type": _ROUTED_TYPE[event.kind],
            "subject": event.ticket.hub_id,
            "time": event.time,
            "datacontenttype": "application/json",
            "dataschema": ROUTED_DATASCHEMA,
            "sequence": str(event.ticket.version),
            "sequencetype": "Integer",
            "supplierid": event.supplierid,
        },
        option=orjson.OPT_UTC_Z,
    )
    after_id = b"".join(
        (
            b'",',
            context[1:-1],
            b',"data":{"kind":"',
            event.kind.value.encode(),
            b'","ticket":',
            ticket_json,
            b',"decision":',
        )
    )
    return after_id, b"}}"


def decode_event(topic: str, value: bytes) -> NormalisedEvent:
    """A record of a normalised ticket topic as a :class:`NormalisedEvent`."""
    kind = _KIND_OF_TOPIC.get(topic)
    if kind is None:
        raise UnreadableEvent(f"the router does not read topic '{topic}'")
    try:
        if kind is EntityKind.INCIDENT:
            incident = _INCIDENT_EVENT.validate_json(value)
            return NormalisedEvent(
                incident.id,
                incident.source,
                incident.time,
                incident.supplierid,
                kind,
                incident.data,
            )
        change = _CHANGE_EVENT.validate_json(value)
        return NormalisedEvent(
            change.id, change.source, change.time, change.supplierid, kind, change.data
        )
    except ValidationError as exc:
        raise UnreadableEvent(f"not a normalised {kind.value} event: {exc}") from None


class _GemeenteView:
    """A gemeente's teams, folded for lookups."""

    __slots__ = ("components", "gemeente", "teams")

    def __init__(self, gemeente: Gemeente) -> None:
        self.gemeente = gemeente
        self.teams = frozenset(t.id for t in gemeente.teams)
        self.components = {c.casefold(): t.id for t in gemeente.teams for c in t.gemma_components}

    def team_for(self, ci: Affected | None) -> tuple[str, str]:
        """(team, reason) for a CI, by fb_team, then GEMMA component, then default team."""
        if ci is not None:
            item = ci.ci
            if item.fb_team and item.fb_team in self.teams:
                return item.fb_team, f"beheert '{item.name}' volgens de CMDB"
            if item.gemma_component:
                team = self.components.get(item.gemma_component.casefold())
                if team is not None:
                    return team, f"beheert de GEMMA-component {item.gemma_component}"
        return self.gemeente.default_team, "standaardteam van de gemeente"


@dataclass(slots=True)
class _Plan:
    """Per gemeente: teams with their reason, rule hits that sent it there."""

    teams: dict[str, str] = field(default_factory=dict)
    hits: list[RuleHit] = field(default_factory=list)
    owner_rule: bool = False


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
        self._rules = RuleSet(config.routing)
        self._views = {g.code: _GemeenteView(g) for g in config.gemeenten}
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
        facts = _facts(ticket, ci)
        hits = tuple(self._rules.hits(facts))
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
            destinations = self._plan(
                kind, supplier, facts.priority, ticket.category, ref, ci, hits
            )
            planned = tuple(
                _Planned(
                    d,
                    _middle(d.decision),
                    orjson.dumps([r.model_dump(mode="json") for r in d.decision.recipients]),
                    orjson.dumps(d.decision.inputs),
                )
                for d in destinations
            )
            if len(self._cache) >= self._cache_size:
                self._cache.clear()
            self._cache[key] = planned
        return planned

    def _plan(
        self,
        kind: EntityKind,
        supplier: str,
        priority: str | None,
        category: str | None,
        ref: CiRef | None,
        ci: ConfigurationItem | None,
        hits: Sequence[RuleHit],
    ) -> tuple[Destination, ...]:
        """The destinations, with decisions whose hub id, event id and time are blank."""
        owners: dict[str, list[Affected]] = {}
        if ci is not None:
            for affected in self.cmdb.affected(ci):
                for code in affected.ci.gemeenten:
                    if code in self._views:
                        owners.setdefault(code, []).append(affected)
        own = Affected(ci) if ci is not None else None
        plans: dict[str, _Plan] = {}
        used: list[RuleHit] = []
        for hit in hits:
            if not self._apply_rule(hit, own, owners, plans):
                continue  # recipients resolved to nobody: not matched
            used.append(hit)
            if hit.rule.stop:
                break
        if used:
            basis = BASIS_RULE
        elif owners:
            basis = BASIS_CI_OWNER
            for code, found in owners.items():
                plan = plans.setdefault(code, _Plan())
                for affected in found:
                    team, reason = self._views[code].team_for(affected)
                    plan.teams.setdefault(team, reason)
        else:
            basis = BASIS_TRIAGE
        inputs = _inputs(kind, supplier, priority, category, ref, ci, used)
        if basis == BASIS_TRIAGE:
            team = self._rules.triage_team
            decision = RoutingDecision(
                hub_id="",
                event_id="",
                rule_id=None,
                basis=basis,
                inputs=inputs,
                recipients=(RecipientRef(gemeente=None, team=team),),
                explanation=_triage_text(ref, ci, team),
                decided_at=_BLANK_TIME,
            )
            return (Destination(None, TRIAGE, decision),)
        destinations = []
        for code in sorted(plans):
            plan = plans[code]
            view = self._views[code]
            found = owners.get(code, [])
            tailored = dict(inputs)
            tailored["gemeente_owns_ci"] = "yes" if found else "no"
            via = [a.ci.name for a in found if a.hops > 0]
            if via:
                tailored["via_ci"] = via
            decision = RoutingDecision(
                hub_id="",
                event_id="",
                rule_id=plan.hits[0].rule.id if plan.hits else None,
                basis=basis,
                inputs=tailored,
                recipients=tuple(RecipientRef(gemeente=code, team=t) for t in plan.teams),
                explanation=_gemeente_text(view.gemeente, plan, ci, found, basis),
                decided_at=_BLANK_TIME,
            )
            destinations.append(Destination(code, gemeente_topic(code), decision))
        return tuple(destinations)

    def _apply_rule(
        self,
        hit: RuleHit,
        own: Affected | None,
        owners: dict[str, list[Affected]],
        plans: dict[str, _Plan],
    ) -> bool:
        """Add the rule's recipients to ``plans``; False when they resolve to nobody."""
        adds: list[tuple[str, str, str, bool]] = []  # (gemeente, team, reason, via owners)
        for recipient in hit.rule.recipients:
            if recipient.gemeente == CI_OWNERS:
                for code, found in owners.items():
                    view = self._views[code]
                    if recipient.team is None:
                        adds += [(code, *view.team_for(a), True) for a in found]
                    elif recipient.team in view.teams:
                        adds.append((code, recipient.team, "het team dat de regel noemt", True))
                    else:
                        reason = (
                            f"standaardteam van de gemeente, die geen team {recipient.team} heeft"
                        )
                        adds.append((code, view.gemeente.default_team, reason, True))
                continue
            code = recipient.gemeente
            view = self._views[code]
            if recipient.team is not None:
                adds.append((code, recipient.team, "het team dat de regel noemt", False))
            elif code in owners:
                adds += [(code, *view.team_for(a), False) for a in owners[code]]
            else:
                adds.append((code, *view.team_for(own), False))
        if not adds:
            return False
        for code, team, reason, via_owners in adds:
            plan = plans.setdefault(code, _Plan())
            plan.teams.setdefault(team, reason)
            if hit not in plan.hits:
                plan.hits.append(hit)
            plan.owner_rule = plan.owner_rule or via_owners
        return True

    # --- events --------------------------------------------------------------------------

    def route(self, event: NormalisedEvent, result: RouteResult, now: datetime) -> None:
        """Append the routed events and decisions of one normalised event to ``result``:
        all of them, or (when this raises) none. ``now`` (aware) becomes ``decided_at``."""
        if now.tzinfo is None:
            raise ValueError("now must be an aware datetime")
        now = now.astimezone(UTC)
        ticket = event.ticket
        planned = self._planned(ticket, event.kind)
        hub_text = ticket.hub_id
        hub = hub_text.encode()
        after_id, closing = _envelope(event, pydantic_core.to_json(ticket))
        head = (
            b'{"hub_id":' + orjson.dumps(hub_text) + b',"event_id":' + orjson.dumps(event.id) + b","
        )
        tail = b',"decided_at":' + orjson.dumps(now, option=orjson.OPT_UTC_Z) + b"}"
        messages: list[OutboundMessage] = []
        decisions: list[DecisionRecord] = []
        for plan in planned:
            destination = plan.destination
            name = destination.name
            routed_id = routed_event_id(event.id, name)
            value = b"".join(
                (_ID_OPEN, routed_id.encode(), after_id, head, plan.middle, tail, closing)
            )
            messages.append(
                OutboundMessage(
                    topic=destination.topic,
                    value=value,
                    key=hub,
                    headers=(
                        (CONTENT_TYPE, CLOUDEVENTS_JSON),
                        (EVENT_ID, routed_id.encode()),
                        (HUB_ID, hub),
                        (SOURCE_EVENT_ID, event.id.encode()),
                        (DESTINATION, name.encode()),
                    ),
                )
            )
            decisions.append(
                DecisionRecord(
                    name,
                    routed_id,
                    event.kind,
                    ticket.version,
                    hub_text,
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


# --- facts, inputs and words -----------------------------------------------------------


_ID_OPEN = b'{"specversion":"1.0","id":"'
_BLANK_HEAD = b'{"hub_id":"","event_id":"",'
_BLANK_TAIL = b',"decided_at":"1970-01-01T00:00:00Z"}'


def _middle(template: RoutingDecision) -> bytes:
    """The JSON of a blank decision between ``event_id`` and ``decided_at``."""
    full = pydantic_core.to_json(template)
    if not (full.startswith(_BLANK_HEAD) and full.endswith(_BLANK_TAIL)):
        raise AssertionError(f"RoutingDecision JSON changed shape: {full[:80]!r}")
    return full[len(_BLANK_HEAD) : -len(_BLANK_TAIL)]


def _facts(ticket: Ticket, ci: ConfigurationItem | None) -> TicketFacts:
    values: set[str] = set()
    ref = ticket.ci
    if ref is not None:
        if ref.record_id:
            values.add(ref.record_id.casefold())
        if ref.name:
            values.add(ref.name.casefold())
    gemma = None
    if ci is not None:
        values.add(ci.supplier_ref.record_id.casefold())
        values.add(ci.name.casefold())
        values.add(ci.hub_id)
        gemma = ci.gemma_component
    return TicketFacts(
        supplier=ticket.supplier_ref.supplier,
        priority=ticket.priority.value if ticket.priority is not None else None,
        category=ticket.category,
        ci_values=frozenset(values),
        gemma_component=gemma,
        text=fold_text(f"{ticket.title}\n{ticket.description}"),
    )


def _inputs(
    kind: EntityKind,
    supplier: str,
    priority: str | None,
    category: str | None,
    ref: CiRef | None,
    ci: ConfigurationItem | None,
    used: Sequence[RuleHit],
) -> dict[str, str | list[str] | None]:
    """The facts the decision used; nothing here names a gemeente."""
    inputs: dict[str, str | list[str] | None] = {
        "kind": kind.value,
        "supplier": supplier,
        "priority": priority,
        "category": category,
        "ci_record_id": ref.record_id if ref is not None else None,
        "ci_name": ref.name if ref is not None else None,
        "cmdb_ci": ci.hub_id if ci is not None else None,
        "cmdb_ci_name": ci.name if ci is not None else None,
        "gemma_component": ci.gemma_component if ci is not None else None,
        "fb_team": ci.fb_team if ci is not None else None,
        "rules_matched": [hit.rule.id for hit in used],
    }
    keywords = [k for hit in used for k in hit.keywords]
    if keywords:
        inputs["keywords"] = keywords
    return inputs


def _rule_sentence(rule: RoutingRule, reasons: Sequence[str]) -> str:
    return f"Regel '{rule.id}' (\"{rule.description}\") is van toepassing: {', '.join(reasons)}."


def _ownership(gemeente: Gemeente, ci: ConfigurationItem | None, found: Sequence[Affected]) -> str:
    """Why the CMDB makes ``gemeente`` an owner, in one or two sentences."""
    if ci is None or not found:
        return ""
    sentences = []
    if any(a.hops == 0 for a in found):
        sentences.append(
            f"Volgens de CMDB gebruikt {gemeente.name} het configuratie-item '{ci.name}'."
        )
    dependents = [a for a in found if a.hops > 0]
    if dependents:
        names = []
        for a in dependents[:_MAX_NAMED]:
            via = f" (via '{a.via.name}')" if a.hops > 1 and a.via is not None else ""
            names.append(f"'{a.ci.name}'{via}")
        rest = len(dependents) - len(names)
        if rest:
            listed = ", ".join(names) + f" en {rest} andere"
        elif len(names) > 1:
            listed = ", ".join(names[:-1]) + f" en {names[-1]}"
        else:
            listed = names[0]
        verb = "is" if len(dependents) == 1 else "zijn"
        sentences.append(
            f"Volgens de CMDB {verb} {listed} van {gemeente.name} afhankelijk van "
            f"'{ci.name}', waar dit ticket over gaat."
        )
    return " ".join(sentences)


def _gemeente_text(
    gemeente: Gemeente,
    plan: _Plan,
    ci: ConfigurationItem | None,
    found: Sequence[Affected],
    basis: str,
) -> str:
    """The decision for one gemeente in words; names no other gemeente."""
    parts = []
    if basis == BASIS_RULE:
        parts += [_rule_sentence(hit.rule, hit.reasons) for hit in plan.hits]
    else:
        parts.append(
            "Geen routeringsregel is van toepassing; de CMDB bepaalt wie dit ticket krijgt."
        )
    ownership = _ownership(gemeente, ci, found)
    if ownership:
        parts.append(ownership)
    teams = " en ".join(f"team {team} ({reason})" for team, reason in plan.teams.items())
    parts.append(f"Daarom gaat het ticket naar {gemeente.name} ({gemeente.code}): {teams}.")
    return " ".join(parts)


def _triage_text(ref: CiRef | None, ci: ConfigurationItem | None, team: str) -> str:
    if ref is None or not (ref.record_id or ref.name):
        reason = "het ticket noemt geen configuratie-item"
    elif ci is None:
        named = ref.name or ref.record_id
        reason = f"configuratie-item '{named}' staat niet (eenduidig) in de CMDB"
    else:
        reason = (
            f"configuratie-item '{ci.name}' heeft in de CMDB geen eigenaar onder de "
            "aangesloten gemeenten"
        )
    return (
        f"Geen routeringsregel is van toepassing en {reason}. Daarom gaat het ticket naar de "
        f"triagewachtrij van de regie ({team}), die het aan de juiste gemeente toewijst."
    )
