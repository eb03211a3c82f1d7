"""The wire contract besides the record's value: header names, content types, and the one
encoder of a normalised event record.

Every producer and consumer of the hub's topics (its own services, the tools, a supplier or
a regie system reading a topic) agrees on these names; a header a consumer relies on is
named here once. Header values are bytes on the wire.

Headers of the hub's records (on which records):

- ``content-type``: :data:`CLOUDEVENTS_JSON`, or :data:`JSON` on commands (every record);
- ``schakel-event-id``: the CloudEvent id (events);
- ``schakel-hub-id``: the hub id, also the key (events, commands);
- ``schakel-version``: the entity's version, decimal; the normaliser seeds its idempotency
  gate from it at start (normalised events);
- ``schakel-source-event-id``: the normalised event a routed event comes from (routed);
- ``schakel-destination``: the gemeente code, or ``triage`` (routed);
- ``schakel-correlation-id``: the request that made a reply, traced end to end (replies,
  commands);
- ``schakel-reply-id``, ``schakel-command-id``: the reply a command carries out, the command;
- ``schakel-sent-by``: ``hub`` (the hub called the supplier's API; the record is a wire tap)
  or ``supplier`` (the supplier applies it) (commands);
- ``schakel-notice``: the kind of a change-calendar notice (routed notices);
- ``schakel-replayed-from``: ``topic:partition:offset`` of the dead letter (replayed records);
- ``schakel-dlq-*``: why and whence (:data:`DLQ_HEADERS`) (dead letters).

Headers the gateway adds to an inbound record (:data:`RECEIVED_AT` ...) and hints a supplier
may set for its connector (:data:`TABLE`, :data:`OPERATION`, :data:`ENTITY`) complete the
list. The dead-letter headers are part of this contract, not of the transport: the regie
reads them on ``schakel.deadletter.v1`` (``schakel deadletter list``) and replays by them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from schemas.cis import ConfigurationItem
from schemas.envelope import DATASCHEMA, EventAction, derived_id, encode_event, event_type
from schemas.tickets import Change, Incident
from schemas.topics import NORMALISED_TOPIC
from schemas.vocab import EntityKind

__all__ = [
    "CLOUDEVENTS_JSON",
    "COMMAND_ID",
    "CONTENT_TYPE",
    "CORRELATION_ID",
    "DESTINATION",
    "DLQ_ERROR",
    "DLQ_ERROR_CLASS",
    "DLQ_FAILED_AT",
    "DLQ_HEADERS",
    "DLQ_OFFSET",
    "DLQ_PARTITION",
    "DLQ_PREFIX",
    "DLQ_SERVICE",
    "DLQ_TOPIC",
    "ENTITY",
    "EVENT_ID",
    "GATEWAY_CONTENT_TYPE",
    "GATEWAY_SUPPLIER",
    "HUB_ID",
    "JSON",
    "NOTICE",
    "OPERATION",
    "RECEIVED_AT",
    "REMOTE_ADDR",
    "REPLAYED_FROM",
    "REPLY_ID",
    "REQUEST_ID",
    "SENT_BY",
    "SENT_BY_HUB",
    "SENT_BY_SUPPLIER",
    "SOURCE_EVENT_ID",
    "TABLE",
    "TRIAGE_DESTINATION",
    "VERIFIED",
    "VERSION",
    "Headers",
    "NormalisedRecord",
    "encode_normalised",
    "header_value",
    "routed_event_id",
]

#: headers as Kafka carries them: (name, bytes)
Headers = tuple[tuple[str, bytes], ...]

# --- content types (values of ``content-type``) -------------------------------------------

#: a CloudEvent in structured JSON mode
CLOUDEVENTS_JSON = b"application/cloudevents+json; charset=utf-8"
#: plain JSON (the outbound commands)
JSON = b"application/json"

# --- headers of the hub's records ---------------------------------------------------------

CONTENT_TYPE = "content-type"
EVENT_ID = "schakel-event-id"
HUB_ID = "schakel-hub-id"
VERSION = "schakel-version"
SOURCE_EVENT_ID = "schakel-source-event-id"
DESTINATION = "schakel-destination"
#: the ``schakel-destination`` of the regie's triage queue, where a gemeente code would be
TRIAGE_DESTINATION = "triage"
CORRELATION_ID = "schakel-correlation-id"
REPLY_ID = "schakel-reply-id"
COMMAND_ID = "schakel-command-id"
SENT_BY = "schakel-sent-by"
#: values of ``schakel-sent-by``
SENT_BY_HUB = b"hub"
SENT_BY_SUPPLIER = b"supplier"
REPLAYED_FROM = "schakel-replayed-from"
#: on a change calendar's notice (a routed change event): the kind of notice
NOTICE = "schakel-notice"

# --- dead letters ---------------------------------------------------------------------------

DLQ_PREFIX = "schakel-dlq-"
DLQ_ERROR = "schakel-dlq-error"
DLQ_ERROR_CLASS = "schakel-dlq-error-class"
DLQ_TOPIC = "schakel-dlq-topic"
DLQ_PARTITION = "schakel-dlq-partition"
DLQ_OFFSET = "schakel-dlq-offset"
DLQ_SERVICE = "schakel-dlq-service"
DLQ_FAILED_AT = "schakel-dlq-failed-at"
#: every header a dead letter adds, in the order it adds them
DLQ_HEADERS = (
    DLQ_ERROR,
    DLQ_ERROR_CLASS,
    DLQ_TOPIC,
    DLQ_PARTITION,
    DLQ_OFFSET,
    DLQ_SERVICE,
    DLQ_FAILED_AT,
)

# --- inbound records: what the gateway adds, hints for the connectors -------------------------

RECEIVED_AT = "schakel-received-at"
GATEWAY_SUPPLIER = "schakel-gateway-supplier"
#: the HTTP request's Content-Type (``content-type`` itself is not set on inbound records)
GATEWAY_CONTENT_TYPE = "schakel-content-type"
REMOTE_ADDR = "schakel-remote-addr"
REQUEST_ID = "schakel-request-id"
#: how the gateway verified the record: ``hmac``, ``bearer`` or ``jwt``
VERIFIED = "schakel-verified"
#: ServiceNow: the table of the record (``incident``, ``change_request``, ``cmdb_ci`` ...)
TABLE = "schakel-table"
#: ServiceNow: the operation (``insert``, ``update``, ``delete``)
OPERATION = "schakel-operation"
#: TOPdesk: the entity of the record (``incident``, ``change`` ...)
ENTITY = "schakel-entity"


def header_value(headers: Iterable[tuple[str, bytes | None]] | None, name: str) -> str | None:
    """The first non-empty value of header ``name`` as text, from Kafka's (name, bytes) pairs."""
    for key, value in headers or ():
        if key == name and value:
            return value.decode("utf-8", "replace")
    return None


def routed_event_id(event_id: str, destination: str) -> str:
    """The id of the routed event of normalised event ``event_id`` for ``destination`` (a
    gemeente code, or ``triage``): the same event routed again gets the same id, whoever
    routes it (the router, the regie's manual route, a change notice)."""
    return derived_id("routed", event_id, destination)


# --- the normalised event record ------------------------------------------------------------


class NormalisedRecord(NamedTuple):
    """A normalised event as it goes on its topic (the fields of an outbound message)."""

    topic: str
    value: bytes
    key: bytes
    headers: Headers


def encode_normalised(
    entity: Incident | Change | ConfigurationItem,
    *,
    kind: EntityKind,
    action: EventAction,
    event_id: str,
    source: str,
    time: datetime,
) -> NormalisedRecord:
    """The record of one normalised event: the CloudEvent on the kind's topic, keyed by the
    hub id, with the headers every consumer relies on (``schakel-version`` included, which
    the normaliser's idempotency gate reads back at start).

    The one encoder of normalised events: the normaliser and ``schakel cmdb import`` both
    publish through it, so an imported CI is the same record a live one would be.
    """
    hub_text = entity.hub_id
    version = entity.version
    supplier = entity.supplier_ref.supplier
    hub = hub_text.encode()
    value = encode_event(
        id=event_id,
        source=source,
        type=event_type(kind, action),
        subject=hub_text,
        time=time,
        dataschema=DATASCHEMA[kind],
        sequence=version,
        supplierid=supplier,
        data=entity,
    )
    return NormalisedRecord(
        NORMALISED_TOPIC[kind],
        value,
        hub,
        (
            (CONTENT_TYPE, CLOUDEVENTS_JSON),
            (EVENT_ID, event_id.encode()),
            (HUB_ID, hub),
            (VERSION, str(version).encode()),
        ),
    )
