"""What people do in the cockpit: replay a dead letter, route a triaged ticket by hand, sign
in and out. Each action is itself an audit event on ``schakel.audit.v1`` (who, what, when),
sent with the action's own records and acknowledged before the action is reported done.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from schemas import Change, EntityKind, Incident, RecipientRef, RoutedTicket, RoutingDecision
from schemas.audit import AuditEntry
from schemas.envelope import derived_id, encode_event, event_type
from schemas.routing import ROUTED_DATASCHEMA
from schemas.topics import DEADLETTER, gemeente_topic
from schemas.wire import (
    CLOUDEVENTS_JSON,
    CONTENT_TYPE,
    DESTINATION,
    EVENT_ID,
    HUB_ID,
    routed_event_id,
)
from services.audit import audit_message
from services.config import SchakelConfig
from services.feed.auth import Principal
from services.feed.errors import ActionRefused, NotFound
from services.feed.projector import dead_letter_headers
from services.feed.store import ReadModel
from services.messaging import OutboundMessage, Publisher
from services.topics_io import ConsumedRecord

__all__ = ["REGIE_BASIS", "Actions", "Replayer"]

#: the basis of a routing decision the regie made by hand
REGIE_BASIS = "regie"

#: puts dead letters back on their topics: :func:`services.topics_io.replay_dead_letters`
Replayer = Callable[[str, list[ConsumedRecord]], Awaitable[list[tuple[int, str]]]]


class Actions:
    """The cockpit's actions over one read model, publisher and broker."""

    def __init__(
        self,
        config: SchakelConfig,
        model: ReadModel,
        publisher: Publisher,
        *,
        bootstrap: str,
        replay: Replayer,
        clock: Callable[[], datetime],
    ) -> None:
        self.config = config
        self.model = model
        self.publisher = publisher
        self.bootstrap = bootstrap
        self._replay = replay
        self._clock = clock

    async def record(self, who: Principal, action: str, summary: str, **fields: Any) -> None:
        """An action without records of its own (sign-in, sign-out, export) as audit event."""
        now = self._clock()
        entry = AuditEntry(
            action=f"cockpit.{action}",
            outcome="ok",
            actor=who.name,
            at=now,
            summary=summary,
            **fields,
        )
        await self.publisher.send_all([audit_message(entry, who.name, action, now.isoformat())])

    async def replay(self, who: Principal, partition: int, offset: int) -> str:
        """Put dead letter ``partition``/``offset`` back on the topic it failed on, with the
        code path of ``schakel deadletter replay``; returns that topic."""
        who.require_regie("dode letters opnieuw aanbieden")
        row = await self.model.dead_letter(partition, offset)
        if row is None:
            raise NotFound(f"geen dode letter {partition}/{offset}")
        record = ConsumedRecord(
            topic=DEADLETTER,
            partition=partition,
            offset=offset,
            timestamp_ms=0,
            key=row["key"],
            value=row["value"],
            headers=dead_letter_headers(row["headers"]),
        )
        done = await self._replay(self.bootstrap, [record])
        if not done:
            raise ActionRefused("de dode letter noemt geen bronkanaal; niet opnieuw aangeboden")
        target = done[0][1]
        now = self._clock()
        await self.model.mark_replayed(partition, offset, by=who.name, at=now)
        entry = AuditEntry(
            action="cockpit.replay",
            outcome="ok",
            actor=who.name,
            at=now,
            summary=f"Dode letter {partition}/{offset} opnieuw aangeboden op {target}",
            reference=f"{DEADLETTER}:{partition}:{offset}",
            detail={"target": target, "error_class": row["error_class"]},
        )
        await self.publisher.send_all(
            [audit_message(entry, str(partition), str(offset), now.isoformat())]
        )
        return target

    async def route(
        self, who: Principal, hub_id: str, gemeente: str, team: str, reason: str
    ) -> str:
        """Send a ticket to ``gemeente``/``team`` by hand: a routed event on the gemeente's
        topic with the regie as its reason, and the action's audit event. Returns the id."""
        who.require_regie("handmatig routeren")
        reason = reason.strip()
        if not reason:
            raise ActionRefused("geef een reden voor de handmatige routering")
        try:
            target = self.config.gemeente(gemeente).team(team)
        except LookupError as error:
            raise ActionRefused(f"onbekende gemeente of team: {error}") from None
        ticket_row = await self.model.ticket(hub_id)
        if ticket_row is None or ticket_row.get("snapshot") is None:
            raise NotFound(f"geen melding {hub_id} met gegevens in het leesmodel")
        kind = EntityKind(ticket_row["kind"])
        model_class: Any = Incident if kind is EntityKind.INCIDENT else Change
        ticket = model_class.model_validate(ticket_row["snapshot"])
        now = self._clock()
        explanation = (
            f"Handmatig gerouteerd door de regie ({who.display}) naar {gemeente}, "
            f"team {target.name}: {reason}"
        )
        decision = RoutingDecision(
            hub_id=hub_id,
            event_id=derived_id("regie-route", hub_id, now.isoformat()),
            rule_id=None,
            basis=REGIE_BASIS,
            inputs={"regie": who.name, "reden": reason},
            recipients=(RecipientRef(gemeente=gemeente, team=team),),
            explanation=explanation,
            decided_at=now,
        )
        routed_id = routed_event_id(decision.event_id, gemeente)
        value = encode_event(
            id=routed_id,
            source=ticket_row["source"],
            type=event_type(kind, "routed"),
            subject=hub_id,
            time=now,
            dataschema=ROUTED_DATASCHEMA,
            sequence=ticket.version,
            supplierid=ticket_row["supplier"],
            data=RoutedTicket(kind=kind.value, ticket=ticket, decision=decision),  # type: ignore[arg-type]
        )
        routed = OutboundMessage(
            topic=gemeente_topic(gemeente),
            value=value,
            key=hub_id.encode(),
            headers=(
                (CONTENT_TYPE, CLOUDEVENTS_JSON),
                (EVENT_ID, routed_id.encode()),
                (HUB_ID, hub_id.encode()),
                (DESTINATION, gemeente.encode()),
            ),
        )
        entry = AuditEntry(
            action="cockpit.route",
            outcome="ok",
            actor=who.name,
            hub_id=hub_id,
            at=now,
            summary=explanation,
            gemeente=gemeente,
            team=team,
            reference=routed_id,
            detail={"reason": reason},
        )
        await self.publisher.send_all([routed, audit_message(entry, routed_id)])
        return routed_id
