"""The router's events on the wire: normalised events read, routed CloudEvents written.

**Routed events.** ``type`` ``nl.itsm.<kind>.routed.v1``; ``id`` derived from the normalised
event id and the destination (:func:`routed_event_id`, so a redelivered event is routed to the
same ids); ``subject`` and key the hub id; ``source``, ``time`` and ``sequence`` those of the
normalised event; ``dataschema`` :data:`~schemas.routing.ROUTED_DATASCHEMA`; ``data`` a
:class:`~schemas.RoutedTicket`. Headers: :mod:`schemas.wire` (event id, hub id, source event
id, destination).

The bytes are written without building the envelope model (hot path): what is the same for
every destination of one event (:class:`RoutedEnvelope`) and for every event with the same
routing plan (:func:`decision_middle`) is encoded once. Byte for byte what
``encode_event(..., data=RoutedTicket(...))`` writes; a test holds it to that.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import orjson
import pydantic_core
from pydantic import TypeAdapter, ValidationError

from schemas import (
    Change,
    CloudEvent,
    EntityKind,
    Incident,
    RoutingDecision,
    event_type,
)
from schemas.routing import ROUTED_DATASCHEMA
from schemas.topics import CHANGES, INCIDENTS
from schemas.wire import (
    CLOUDEVENTS_JSON,
    CONTENT_TYPE,
    DESTINATION,
    EVENT_ID,
    HUB_ID,
    SOURCE_EVENT_ID,
    Headers,
    routed_event_id,
)
from services.router.errors import UnreadableEvent

__all__ = [
    "NormalisedEvent",
    "RoutedEnvelope",
    "decision_middle",
    "decode_event",
    "routed_event_id",
]

_ROUTED_TYPE = {k: event_type(k, "routed") for k in (EntityKind.INCIDENT, EntityKind.CHANGE)}
_KIND_OF_TOPIC = {INCIDENTS: EntityKind.INCIDENT, CHANGES: EntityKind.CHANGE}
_INCIDENT_EVENT = TypeAdapter(CloudEvent[Incident])
_CHANGE_EVENT = TypeAdapter(CloudEvent[Change])

_ID_OPEN = b'{"specversion":"1.0","id":"'
_BLANK_HEAD = b'{"hub_id":"","event_id":"",'
_BLANK_TAIL = b',"decided_at":"1970-01-01T00:00:00Z"}'


@dataclass(frozen=True, slots=True)
class NormalisedEvent:
    """The parts of a normalised incident or change event the router uses."""

    id: str
    source: str
    time: datetime
    supplierid: str
    kind: EntityKind
    ticket: Incident | Change


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


def decision_middle(template: RoutingDecision) -> bytes:
    """The JSON of a blank decision between ``event_id`` and ``decided_at`` (the part every
    event with the same routing plan shares)."""
    full = pydantic_core.to_json(template)
    if not (full.startswith(_BLANK_HEAD) and full.endswith(_BLANK_TAIL)):
        raise AssertionError(f"RoutingDecision JSON changed shape: {full[:80]!r}")
    return full[len(_BLANK_HEAD) : -len(_BLANK_TAIL)]


class RoutedEnvelope:
    """The routed events of one normalised event, decided at ``now`` (aware, UTC): the
    envelope, ticket and decision head and tail are encoded once, then each destination's
    event is a join of bytes (:meth:`value`)."""

    __slots__ = ("_after_id", "_head", "_source_id", "_tail", "hub")

    def __init__(self, event: NormalisedEvent, now: datetime) -> None:
        ticket = event.ticket
        hub_text = ticket.hub_id
        self.hub = hub_text.encode()
        self._source_id = event.id.encode()
        context = orjson.dumps(
            {
                "source": event.source,
                "type": _ROUTED_TYPE[event.kind],
                "subject": hub_text,
                "time": event.time,
                "datacontenttype": "application/json",
                "dataschema": ROUTED_DATASCHEMA,
                "sequence": str(ticket.version),
                "sequencetype": "Integer",
                "supplierid": event.supplierid,
            },
            option=orjson.OPT_UTC_Z,
        )
        self._after_id = b"".join(
            (
                b'",',
                context[1:-1],
                b',"data":{"kind":"',
                event.kind.value.encode(),
                b'","ticket":',
                pydantic_core.to_json(ticket),
                b',"decision":',
                b'{"hub_id":',
                orjson.dumps(hub_text),
                b',"event_id":',
                orjson.dumps(event.id),
                b",",
            )
        )
        self._tail = b',"decided_at":' + orjson.dumps(now, option=orjson.OPT_UTC_Z) + b"}" + b"}}"

    def value(self, routed_id: str, middle: bytes) -> bytes:
        """The routed CloudEvent with id ``routed_id`` and the decision ``middle``."""
        return b"".join((_ID_OPEN, routed_id.encode(), self._after_id, middle, self._tail))

    def headers(self, routed_id: str, destination: str) -> Headers:
        """The record headers of the routed event for ``destination`` (code or triage)."""
        return (
            (CONTENT_TYPE, CLOUDEVENTS_JSON),
            (EVENT_ID, routed_id.encode()),
            (HUB_ID, self.hub),
            (SOURCE_EVENT_ID, self._source_id),
            (DESTINATION, destination.encode()),
        )
