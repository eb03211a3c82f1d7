"""The projector: consumed records -> facts -> rows of the read model (plain functions).

:func:`decode` reads one record of any outcome topic into a :class:`Fact` (or raises
:class:`~services.feed.errors.UnreadableOutcome`); :class:`Projection` applies a batch of
facts to the ticket and chain rows loaded for it, in memory, and collects the rows to write.
Nothing here knows Kafka or SQL.

Idempotent: every fact has an entry id (the CloudEvent id, the routed event id, the audit
event id, the dead letter's partition and offset); a fact whose entry is already in the
timeline, or twice in one batch, changes nothing. The ticket's row is the same whatever the
order in which the topics interleave (a rebuild replays them in another order): ticket fields
come from the highest version; gemeenten, deliveries and reopens are sums and sets; the SLA
state comes from the latest SLA event by its time.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import ValidationError

from schemas import CloudEvent, ConfigurationItem, Incident, ReplyEvent, RoutedTicket
from schemas.audit import AuditEvent
from schemas.sla import SlaEvent
from schemas.tickets import Change
from schemas.topics import AUDIT, CHANGES, CIS, DEADLETTER, INCIDENTS, REPLIES, SLA, TRIAGE
from services.feed.chain import GENESIS, entry_hash
from services.feed.errors import UnreadableOutcome
from services.messaging import (
    DLQ_ERROR,
    DLQ_ERROR_CLASS,
    DLQ_FAILED_AT,
    DLQ_OFFSET,
    DLQ_PARTITION,
    DLQ_SERVICE,
    DLQ_TOPIC,
    RawRecord,
)

__all__ = [
    "OPEN_STATUSES",
    "SLA_STATES",
    "STATUS_NL",
    "Fact",
    "Projection",
    "decode",
    "gemeente_of",
]

_INCIDENT = CloudEvent[Incident]
_CHANGE = CloudEvent[Change]
_CI = CloudEvent[ConfigurationItem]
_ROUTED = CloudEvent[RoutedTicket]

OPEN_STATUSES = frozenset(
    {
        "new",
        "in_progress",
        "on_hold",
        "draft",
        "assess",
        "authorize",
        "scheduled",
        "implement",
        "review",
    }
)
#: SLA event kinds (the last segment of the type, or ``data.event``) -> the ticket's SLA state
SLA_STATES = {
    "started": "running",
    "resumed": "running",
    "running": "running",
    "paused": "paused",
    "warning": "at_risk",
    "at_risk": "at_risk",
    "breached": "breached",
    "breach": "breached",
    "met": "met",
    "completed": "met",
}
_TRACKED = (
    "status",
    "priority",
    "title",
    "assignment_group",
    "assignee",
    "hold_reason",
    "resolution",
    "ci",
    "planned_start",
    "planned_end",
    "risk",
    "approval",
)
#: status words in Dutch (the pages use the same)
STATUS_NL = {
    "new": "nieuw",
    "in_progress": "in behandeling",
    "on_hold": "wacht",
    "resolved": "opgelost",
    "closed": "gesloten",
    "cancelled": "geannuleerd",
    "draft": "concept",
    "assess": "beoordeling",
    "authorize": "goedkeuring",
    "scheduled": "gepland",
    "implement": "uitvoering",
    "review": "evaluatie",
    "completed": "afgerond",
    "rejected": "afgewezen",
    "unknown": "onbekend",
}
_FIELD_NL = {
    "status": "status",
    "priority": "prioriteit",
    "title": "titel",
    "assignment_group": "groep",
    "assignee": "behandelaar",
    "hold_reason": "wachtreden",
    "resolution": "oplossing",
    "ci": "CI",
    "planned_start": "gepland begin",
    "planned_end": "gepland einde",
    "risk": "risico",
    "approval": "goedkeuring",
}
_CLOCK_NL = {"response": "reactietijd", "resolution": "oplostijd", "resolve": "oplostijd"}
_CLOSED = ("resolved", "closed", "cancelled", "completed", "rejected")


def gemeente_of(topic: str) -> str | None:
    """``GM0505`` for ``schakel.gemeente.GM0505.v1``, else None."""
    if topic.startswith("schakel.gemeente.") and topic.endswith(".v1"):
        return topic[len("schakel.gemeente.") : -len(".v1")]
    return None


@dataclass(slots=True)
class Fact:
    """One outcome, ready to project. ``ticket`` is the ticket data it carries (normalised or
    routed), ``entry`` its timeline entry (None for CIs and dead letters)."""

    kind: str  # version, routed, reply, sla, audit, ci, deadletter
    entry_id: str
    hub_id: str | None
    at: datetime
    summary: str = ""
    detail: dict[str, Any] = field(default_factory=dict)
    ticket: dict[str, Any] | None = None
    ticket_kind: str | None = None
    supplier: str | None = None
    source: str | None = None
    routed: tuple[tuple[str, str], ...] = ()  # (gemeente, team)
    triage: bool = False
    sla_state: str | None = None
    sla_due_at: datetime | None = None
    delivery: str | None = None  # ok / failed
    row: dict[str, Any] | None = None  # ci, dead letter and audit rows


def _header(record: RawRecord, name: str) -> bytes | None:
    for key, value in record.headers or ():
        if key == name:
            return value
    return None


def _time(text: str | None, fallback: datetime) -> datetime:
    if not text:
        return fallback
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return fallback
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def decode(record: RawRecord, *, now: datetime) -> Fact:
    """The fact of one consumed record; :class:`UnreadableOutcome` when it is not one."""
    topic = record.topic
    value = record.value or b""
    try:
        if topic in (INCIDENTS, CHANGES):
            return _version(_INCIDENT if topic == INCIDENTS else _CHANGE, value)
        if topic == TRIAGE or gemeente_of(topic):
            return _routed(value, gemeente_of(topic))
        if topic == REPLIES:
            return _reply(value)
        if topic == AUDIT:
            return _audit(value)
        if topic == SLA:
            return _sla(value)
        if topic == CIS:
            return _ci(value)
        if topic == DEADLETTER:
            return _dead_letter(record, now)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise UnreadableOutcome(
            f"not a valid event for {topic}: {error.error_count()} error(s), first: "
            f"{where}: {first['msg']}"
        ) from None
    except orjson.JSONDecodeError as error:
        raise UnreadableOutcome(f"not JSON: {error}") from None
    raise UnreadableOutcome(f"the feed does not project topic {topic}")


def _version(model: Any, value: bytes) -> Fact:
    event = model.model_validate_json(value)
    data = event.data
    kind = "incident" if isinstance(data, Incident) else "change"
    return Fact(
        kind="version",
        entry_id=event.id,
        hub_id=data.hub_id,
        at=event.time,
        ticket=_data_of(value),
        ticket_kind=kind,
        supplier=event.supplierid,
        source=event.source,
        detail={"version": data.version, "type": event.type},
    )


def _data_of(value: bytes) -> dict[str, Any]:
    """The ``data`` of a CloudEvent already validated, as its JSON (cheaper than dumping the
    model again; the same values: the model is what the producer serialised)."""
    data: dict[str, Any] = orjson.loads(value)["data"]
    return data


def _routed(value: bytes, gemeente: str | None) -> Fact:
    event = _ROUTED.model_validate_json(value)
    routed = event.data
    decision = routed.decision
    recipients = tuple(
        (r.gemeente, r.team) for r in decision.recipients if r.gemeente and r.gemeente == gemeente
    )
    where = ", ".join(f"{g} ({t})" for g, t in recipients) or "triage van de regie"
    return Fact(
        kind="routed" if gemeente else "triage",
        entry_id=event.id,
        hub_id=routed.ticket.hub_id,
        at=decision.decided_at,
        summary=f"Gerouteerd naar {where}",
        detail={
            "destination": gemeente or "triage",
            "rule_id": decision.rule_id,
            "basis": decision.basis,
            "explanation": decision.explanation,
            "recipients": [f"{g}/{t}" for g, t in recipients],
            "inputs": dict(decision.inputs),
            "version": routed.ticket.version,
        },
        ticket=_data_of(value)["ticket"],
        ticket_kind=routed.kind,
        supplier=event.supplierid,
        source=event.source,
        routed=recipients,
        triage=gemeente is None,
    )


def _reply(value: bytes) -> Fact:
    event = ReplyEvent.model_validate_json(value)
    reply = event.data
    text = reply.body or reply.reason or ""
    extra = f" -> {reply.priority.value}" if reply.priority is not None else ""
    return Fact(
        kind="reply",
        entry_id=event.id,
        hub_id=reply.hub_id,
        at=event.time,
        summary=f"Reactie van {reply.team} ({reply.gemeente}): {reply.action.value}{extra}"
        + (f": {text[:300]}" if text else ""),
        detail={
            "action": reply.action.value,
            "gemeente": reply.gemeente,
            "team": reply.team,
            "author": reply.author,
            "visibility": reply.visibility.value,
            "priority": reply.priority.value if reply.priority else None,
        },
    )


def _audit(value: bytes) -> Fact:
    event = AuditEvent.model_validate_json(value)
    entry = event.data
    detail = {
        "action": entry.action,
        "outcome": entry.outcome,
        "actor": entry.actor,
        "gemeente": entry.gemeente,
        "team": entry.team,
        "channel": entry.channel,
        "supplier": entry.supplier,
        "attempts": entry.attempts,
        "reference": entry.reference,
        **entry.detail,
    }
    delivery = None
    if entry.action == "delivery.delivered":
        delivery = "ok"
    elif entry.action == "delivery.failed":
        delivery = "failed"
    return Fact(
        kind="audit",
        entry_id=event.id,
        hub_id=entry.hub_id,
        at=entry.at,
        summary=entry.summary,
        detail=detail,
        delivery=delivery,
        routed=((entry.gemeente, entry.team),)
        if entry.action == "cockpit.route" and entry.gemeente and entry.team
        else (),
        row={
            "event_id": event.id,
            "at": entry.at,
            "action": entry.action,
            "outcome": entry.outcome,
            "actor": entry.actor,
            "hub_id": entry.hub_id,
            "summary": entry.summary,
            "detail": detail,
        },
    )


def _sla(value: bytes) -> Fact:
    """An SLA event, read from the CloudEvent generically (type, subject, time, data)."""
    event = orjson.loads(value)
    if not isinstance(event, dict) or not event.get("id"):
        raise UnreadableOutcome("an SLA event must be a CloudEvent object with an id")
    raw = event.get("data")
    data: dict[str, Any] = raw if isinstance(raw, dict) else {}
    hub = data.get("hub_id") or event.get("subject")
    if not hub:
        raise UnreadableOutcome("an SLA event must name the ticket (subject or data.hub_id)")
    type_ = str(event.get("type", ""))
    segments = type_.split(".")
    name = str(data.get("event") or data.get("kind") or (segments[-2] if len(segments) > 2 else ""))
    at = _time(str(event.get("time") or ""), datetime.now(UTC))
    due = data.get("due_at") or data.get("deadline") or data.get("breach_at")
    clock = data.get("clock") or data.get("target") or data.get("metric")
    left = data.get("remaining_seconds") or data.get("remaining_s")
    words = {
        "running": "SLA-klok loopt",
        "paused": "SLA-klok gepauzeerd",
        "at_risk": "SLA dreigt te verlopen",
        "breached": "SLA verbroken",
        "met": "SLA gehaald",
    }
    try:  # the SLA service's model (schemas.sla) when the data is one
        sla = SlaEvent.model_validate(data)
    except ValidationError:
        sla = None
    if sla is not None:
        name, clock, at = sla.event.value, sla.clock.value, sla.at
        due = sla.due_at.isoformat() if sla.due_at else None
        left = None
    state = SLA_STATES.get(name.lower())
    summary = words.get(state or "", f"SLA-gebeurtenis {name}")
    if clock:
        summary += f" ({_CLOCK_NL.get(str(clock), clock)})"
    if sla is not None:
        summary += f": {sla.percent_used:.0f}% van {sla.target_minutes} min gebruikt"
        if sla.reason:
            summary += f" ({sla.reason})"
    return Fact(
        kind="sla",
        entry_id=str(event["id"]),
        hub_id=str(hub),
        at=at,
        summary=summary,
        detail={
            "event": name,
            "clock": clock,
            "due_at": due,
            "remaining_seconds": left,
            "type": type_,
            **(
                {
                    "state": sla.state.value,
                    "percent_used": sla.percent_used,
                    "priority": sla.priority.value,
                    "contract": sla.contract,
                    "calendar": sla.calendar,
                }
                if sla is not None
                else {}
            ),
        },
        sla_state=state,
        sla_due_at=_time(str(due), at) if due else None,
    )


def _ci(value: bytes) -> Fact:
    event = _CI.model_validate_json(value)
    ci = event.data
    return Fact(
        kind="ci",
        entry_id=event.id,
        hub_id=None,
        at=event.time,
        row={
            "hub_id": ci.hub_id,
            "supplier": ci.supplier_ref.supplier,
            "name": ci.name,
            "ci_class": ci.ci_class,
            "status": ci.status.value,
            "gemeenten": " ".join(ci.gemeenten),
            "gemma_component": ci.gemma_component,
            "deleted": ci.deleted,
            "version": ci.version,
            "updated_at": ci.updated_at,
        },
    )


def _text(raw: bytes | None) -> str:
    return (raw or b"").decode("utf-8", "replace")


def _int(raw: bytes | None) -> int | None:
    try:
        return int(_text(raw))
    except ValueError:
        return None


def _dead_letter(record: RawRecord, now: datetime) -> Fact:
    value = record.value or b""
    headers = [[name, base64.b64encode(raw or b"").decode()] for name, raw in record.headers or ()]
    failed_at = _time(_text(_header(record, DLQ_FAILED_AT)), now)
    return Fact(
        kind="deadletter",
        entry_id=f"dlq:{record.partition}:{record.offset}",
        hub_id=None,
        at=failed_at,
        row={
            "partition": record.partition,
            "offset": record.offset,
            "source_topic": _text(_header(record, DLQ_TOPIC)) or "?",
            "source_partition": _int(_header(record, DLQ_PARTITION)),
            "source_offset": _int(_header(record, DLQ_OFFSET)),
            "service": _text(_header(record, DLQ_SERVICE)) or "?",
            "error_class": _text(_header(record, DLQ_ERROR_CLASS)) or "?",
            "reason": _text(_header(record, DLQ_ERROR)),
            "failed_at": failed_at,
            "size": len(value),
            "key": record.key,
            "value": value,
            "headers": headers,
        },
    )


# --- the projection of one batch ---------------------------------------------------------


def _stub(hub_id: str, at: datetime) -> dict[str, Any]:
    """A ticket row made by an event that came before the ticket's own data."""
    return {
        "hub_id": hub_id,
        "kind": "unknown",
        "supplier": "",
        "source": "",
        "number": None,
        "title": "",
        "status": "unknown",
        "open": False,
        "priority": None,
        "assignment_group": None,
        "ci_name": None,
        "version": -1,
        "opened_at": None,
        "updated_at": at,
        "resolved_at": None,
        "closed_at": None,
        "planned_start": None,
        "planned_end": None,
        "resolve_seconds": None,
        "reopen_count": 0,
        "handoffs": 0,
        "routed_to": "",
        "triage": False,
        "sla_state": None,
        "sla_due_at": None,
        "sla_breached_at": None,
        "sla_at": None,
        "deliveries_ok": 0,
        "deliveries_failed": 0,
        "search": "",
        "snapshot": None,
    }


def _parse(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return _time(str(value), datetime.now(UTC))


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _nl(status: Any) -> str:
    return STATUS_NL.get(str(status), str(status))


def _show(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return STATUS_NL.get(value, value)
    if isinstance(value, dict):
        return str(value.get("name") or value.get("code") or value.get("record_id") or value)
    return str(value)


def changes_between(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> dict[str, Any]:
    """What changed from one version to the next: ``{field: [old, new]}``, plus the number
    of new comments."""
    if before is None:
        return {}
    changed: dict[str, Any] = {
        name: [before.get(name), after.get(name)]
        for name in _TRACKED
        if name in after and before.get(name) != after.get(name)
    }
    old = {c.get("comment_id") for c in before.get("comments") or ()}
    new = [c for c in after.get("comments") or () if c.get("comment_id") not in old]
    if new:
        changed["comments"] = len(new)
    return changed


class Projection:
    """A batch of facts applied to the rows loaded for it (``tickets``: hub id -> row,
    ``chains``: hub id -> (entries, head), ``known``: entry ids already in the timeline)."""

    def __init__(
        self,
        tickets: dict[str, dict[str, Any]],
        chains: dict[str, tuple[int, str]],
        known: set[str],
    ) -> None:
        self.tickets = tickets
        self.chains = chains
        self.known = known
        self.gemeenten: dict[tuple[str, str, str], datetime] = {}
        self.entries: list[dict[str, Any]] = []
        self.cis: dict[str, dict[str, Any]] = {}
        self.dead_letters: list[dict[str, Any]] = []
        self.audit: list[dict[str, Any]] = []
        self.touched: set[str] = set()
        self.chained: set[str] = set()
        self.duplicates = 0

    def apply_all(self, facts: Iterable[Fact]) -> None:
        for fact in facts:
            self.apply(fact)

    def apply(self, fact: Fact) -> None:
        if fact.entry_id in self.known:
            self.duplicates += 1
            return
        self.known.add(fact.entry_id)
        if fact.kind == "ci":
            assert fact.row is not None
            row = fact.row
            have = self.cis.get(row["hub_id"])
            if have is None or have["version"] <= row["version"]:
                self.cis[row["hub_id"]] = row
            return
        if fact.kind == "deadletter":
            assert fact.row is not None
            self.dead_letters.append(fact.row)
            return
        if fact.row is not None and fact.kind == "audit":
            self.audit.append(fact.row)
        hub = fact.hub_id
        if hub is None:
            return
        ticket = self.tickets.get(hub)
        if ticket is None:
            ticket = self.tickets[hub] = _stub(hub, fact.at)
        self.touched.add(hub)
        summary = fact.summary
        detail = fact.detail
        if fact.ticket is not None:
            summary, detail = self._ticket(ticket, fact)
        if fact.routed or fact.triage:
            self._routing(ticket, fact)
        if fact.kind == "sla":
            self._sla(ticket, fact)
        if fact.delivery == "ok":
            ticket["deliveries_ok"] += 1
        elif fact.delivery == "failed":
            ticket["deliveries_failed"] += 1
        self._chain(hub, fact, summary, detail)

    # -- parts -------------------------------------------------------------------------

    def _ticket(self, ticket: dict[str, Any], fact: Fact) -> tuple[str, dict[str, Any]]:
        data = fact.ticket
        assert data is not None
        version = int(data["version"])
        summary, detail = fact.summary, dict(fact.detail)
        if fact.kind == "version":
            before: dict[str, Any] | None = ticket["snapshot"]
            changed = changes_between(before, data)
            if before is None:
                summary = f"Versie {version}: binnengekomen, {_nl(data['status'])}"
            elif version < int(before.get("version", -1)):
                summary = f"Versie {version}: ouder dan versie {before.get('version')}, genegeerd"
            else:
                parts = [
                    f"{_FIELD_NL.get(k, k)} {_show(v[0])} → {_show(v[1])}"
                    for k, v in changed.items()
                    if k != "comments"
                ]
                if "comments" in changed:
                    parts.append(f"{changed['comments']} nieuwe notitie(s)")
                summary = f"Versie {version}: " + ("; ".join(parts) or "geen zichtbare wijziging")
                old_status, new_status = before.get("status"), data["status"]
                if old_status in _CLOSED and new_status in OPEN_STATUSES:
                    ticket["reopen_count"] += 1
                old_group = before.get("assignment_group")
                if old_group and old_group != data.get("assignment_group"):
                    ticket["handoffs"] += 1
            detail["changes"] = changed
            if before is None or version >= int(before.get("version", -1)):
                ticket["snapshot"] = data
        if version >= ticket["version"]:
            self._fields(ticket, fact, data)
        return summary, detail

    def _fields(self, ticket: dict[str, Any], fact: Fact, data: Mapping[str, Any]) -> None:
        ref = data["supplier_ref"]
        ci = data.get("ci") or {}
        opened = _parse(data.get("opened_at"))
        resolved = _parse(data.get("resolved_at"))
        status = str(data["status"])
        ticket.update(
            kind=fact.ticket_kind or ticket["kind"],
            supplier=ref["supplier"],
            source=fact.source or ticket["source"],
            number=ref.get("number"),
            title=data["title"],
            status=status,
            open=status in OPEN_STATUSES,
            priority=data.get("priority"),
            assignment_group=data.get("assignment_group"),
            ci_name=ci.get("name"),
            version=int(data["version"]),
            opened_at=opened,
            updated_at=_parse(data["updated_at"]),
            resolved_at=resolved,
            closed_at=_parse(data.get("closed_at")),
            planned_start=_parse(data.get("planned_start")),
            planned_end=_parse(data.get("planned_end")),
            resolve_seconds=int((resolved - opened).total_seconds())
            if resolved and opened
            else None,
            search=" ".join(
                str(x)
                for x in (
                    data["title"],
                    ref.get("number"),
                    ci.get("name"),
                    data.get("assignment_group"),
                )
                if x
            ).lower(),
        )

    def _routing(self, ticket: dict[str, Any], fact: Fact) -> None:
        hub = ticket["hub_id"]
        for gemeente, team in fact.routed:
            self.gemeenten[(hub, gemeente, team)] = fact.at
        codes = set(ticket["routed_to"].split()) | {g for g, _ in fact.routed}
        ticket["routed_to"] = " ".join(sorted(codes))
        if fact.triage:
            ticket["triage"] = not codes
        elif codes:
            ticket["triage"] = False

    def _sla(self, ticket: dict[str, Any], fact: Fact) -> None:
        if fact.sla_state is None:
            return
        if fact.sla_state == "breached":
            first = _aware(ticket["sla_breached_at"])
            if first is None or fact.at < first:
                ticket["sla_breached_at"] = fact.at
        last = _aware(ticket["sla_at"])
        if last is not None and fact.at < last:
            return
        ticket["sla_at"] = fact.at
        # a breach stays a breach: later warnings of another clock do not undo it
        if ticket["sla_state"] == "breached" and fact.sla_state in ("at_risk", "running"):
            return
        ticket["sla_state"] = fact.sla_state
        if fact.sla_due_at is not None or fact.sla_state in ("met",):
            ticket["sla_due_at"] = fact.sla_due_at

    def _chain(self, hub: str, fact: Fact, summary: str, detail: dict[str, Any]) -> None:
        count, head = self.chains.get(hub, (0, GENESIS))
        seq = count + 1
        detail = orjson.loads(orjson.dumps(detail, default=str))  # as the store gives it back
        digest = entry_hash(
            head,
            entry_id=fact.entry_id,
            hub_id=hub,
            seq=seq,
            at=fact.at,
            kind=fact.kind,
            summary=summary,
            detail=detail,
        )
        self.entries.append(
            {
                "entry_id": fact.entry_id,
                "hub_id": hub,
                "seq": seq,
                "at": fact.at,
                "kind": fact.kind,
                "summary": summary,
                "detail": detail,
                "prev_hash": head,
                "hash": digest,
            }
        )
        self.chains[hub] = (seq, digest)
        self.chained.add(hub)


def dead_letter_headers(stored: Sequence[Sequence[str]]) -> dict[str, bytes]:
    """The headers of a stored dead letter, as ``replay_dead_letters`` reads them."""
    return {name: base64.b64decode(value) for name, value in stored}
