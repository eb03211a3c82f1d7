"""Audit events onto ``schakel.audit.v1``: outcomes no other topic carries (wire tap).

A leaf module: services that report an outcome (delivery, sync, the cockpit) build their
:class:`~schemas.audit.AuditEntry` and turn it into an :class:`OutboundMessage` here, and send
it with the results of the same batch (so it is acknowledged before the offsets are
committed). The key is the hub id, so one ticket's audit events stay in order; the headers
are those of every hub event (:mod:`schemas.wire`: content type, event id, hub id).
"""

from __future__ import annotations

import orjson

from schemas.audit import AuditEntry, audit_event
from schemas.topics import AUDIT
from schemas.wire import CLOUDEVENTS_JSON, CONTENT_TYPE, EVENT_ID, HUB_ID, Headers
from services.messaging import OutboundMessage

__all__ = ["audit_message"]


def audit_message(entry: AuditEntry, *identity: str) -> OutboundMessage:
    """The record of ``entry`` for ``schakel.audit.v1``; ``identity`` makes its event id
    (the same outcome reported again gets the same id; the feed stores it once)."""
    event = audit_event(entry, *identity)
    value = orjson.dumps(event.model_dump(mode="json"))
    headers: Headers = ((CONTENT_TYPE, CLOUDEVENTS_JSON), (EVENT_ID, event.id.encode()))
    if entry.hub_id:
        headers += ((HUB_ID, entry.hub_id.encode()),)
    return OutboundMessage(AUDIT, value, event.subject.encode(), headers)
