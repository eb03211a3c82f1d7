"""From normalised ticket events to SLA events: plain functions, no Kafka, no store.

:class:`SlaWatch` holds the contracts of the configuration. ``read`` turns one consumed
record into a ticket (or raises for a record that is not a normalised incident or change);
``ingest`` adds tickets to their histories; ``messages`` evaluates a history as of ``now``
and gives the CloudEvents not published before (by id), ready for ``schakel.sla.v1``, keyed
by hub id.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, MutableMapping
from datetime import datetime

import orjson

from schemas.envelope import encode_event
from schemas.sla import SLA_DATASCHEMA, SlaEvent, sla_type
from schemas.tickets import Change, Incident
from schemas.topics import CHANGES, SLA
from schemas.vocab import EntityKind
from services.config import SchakelConfig
from services.messaging import OutboundMessage
from services.sla.clocks import (
    ClockResult,
    Contract,
    TicketHistory,
    evaluate,
    observe_change,
    observe_incident,
)

__all__ = ["DEFAULT_SOURCE", "SlaWatch", "encode_sla_event"]

DEFAULT_SOURCE = "urn:nld:kvk:00000000:systeem:schakel-sla"


def encode_sla_event(event_id: str, event: SlaEvent, *, source: str) -> OutboundMessage:
    """The NL GOV CloudEvent of one SLA event, keyed by hub id; ``sequence`` is the moment in
    milliseconds, so the events of one ticket are ordered by their time."""
    value = encode_event(
        id=event_id,
        source=source,
        type=sla_type(event.event),
        subject=event.hub_id,
        time=event.at,
        dataschema=SLA_DATASCHEMA,
        sequence=int(event.at.timestamp() * 1000),
        supplierid=event.supplier,
        data=event,
    )
    return OutboundMessage(SLA, value, event.hub_id.encode())


class SlaWatch:
    """The contracts of a configuration, and what a ticket's history means under them."""

    def __init__(self, config: SchakelConfig, *, source: str = DEFAULT_SOURCE) -> None:
        self.source = source
        self.contracts = {
            s.id: Contract(s.contract, config.sla) for s in config.suppliers if s.contract
        }

    def read(self, topic: str, value: bytes) -> Incident | Change | None:
        """The ticket in a normalised CloudEvent, or None when its supplier has no contract
        (decided on the envelope's ``supplierid`` before the data is validated: a new
        consumer group reads the whole topic). Validation errors propagate."""
        document = orjson.loads(value)
        data = document.get("data") if isinstance(document, dict) else None
        if not isinstance(data, dict) or not isinstance(document.get("supplierid"), str):
            raise ValueError("not a normalised CloudEvent (data object and supplierid)")
        if document["supplierid"] not in self.contracts:
            return None
        model: type[Incident] | type[Change] = Change if topic == CHANGES else Incident
        ticket = model.model_validate(data)
        if ticket.supplier_ref.supplier not in self.contracts:
            return None
        return ticket

    @staticmethod
    def ingest(
        histories: MutableMapping[str, TicketHistory], tickets: Iterable[Incident | Change]
    ) -> set[str]:
        """Add the tickets to their histories (new ones are created); the hub ids changed."""
        changed: set[str] = set()
        for ticket in tickets:
            if isinstance(ticket, Incident):
                observation = observe_incident(ticket)
                entity = EntityKind.INCIDENT
            else:
                observation = observe_change(ticket)
                entity = EntityKind.CHANGE
            opened = ticket.opened_at or ticket.updated_at
            history = histories.get(ticket.hub_id)
            if history is None:
                history = histories[ticket.hub_id] = TicketHistory(
                    ticket.hub_id, entity, ticket.supplier_ref.supplier, None, opened
                )
            history.opened_at = min(history.opened_at, opened)
            history.number = ticket.supplier_ref.number or history.number
            if history.add(observation):
                changed.add(ticket.hub_id)
        return changed

    def evaluate(
        self,
        history: TicketHistory,
        now: datetime,
        *,
        skip: Collection[str] = frozenset(),
        events: bool = True,
    ) -> dict[str, ClockResult]:
        contract = self.contracts.get(history.supplier)
        if contract is None:
            return {}
        found = evaluate(history, contract, now, skip=skip, events=events)
        return {clock.value: result for clock, result in found.items()}

    def messages(
        self, history: TicketHistory, now: datetime, published: Collection[str]
    ) -> tuple[list[OutboundMessage], list[str], datetime | None]:
        """The SLA events of ``history`` up to ``now`` not in ``published``, in order; their
        ids; and the next moment something falls due (None: nothing will without a new
        ticket event)."""
        out: list[tuple[datetime, int, str, SlaEvent]] = []
        next_due: datetime | None = None
        for order, result in enumerate(self.evaluate(history, now, skip=published).values()):
            for event_id, event in result.events:
                out.append((event.at, order, event_id, event))
            if result.next_due is not None:
                next_due = result.next_due if next_due is None else min(next_due, result.next_due)
        out.sort(key=lambda item: (item[0], item[1]))
        messages = [encode_sla_event(i, e, source=self.source) for _, _, i, e in out]
        return messages, [i for _, _, i, _ in out], next_due
