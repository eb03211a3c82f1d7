"""Audit events onto ``schakel.audit.v1``: outcomes no other topic carries (wire tap).

A leaf module: services that report an outcome (delivery, sync, the cockpit) build their
:class:`~schemas.audit.AuditEntry` and turn it into an :class:`OutboundMessage` here, and send
it with the results of the same batch (so it is acknowledged before the offsets are
committed). The key is the hub id, so one ticket's audit events stay in order.
"""

from __future__ import annotations

import orjson

from schemas.audit import AuditEntry, audit_event
from schemas.topics import AUDIT
from services.messaging import OutboundMessage

__all__ = ["audit_message"]


def audit_message(entry: AuditEntry, *identity: str) -> OutboundMessage:
    """The record of ``entry`` for ``schakel.audit.v1``; ``identity`` makes its event id
    (the same outcome reported again gets the same id; the feed stores it once)."""
    event = audit_event(entry, *identity)
    value = orjson.dumps(event.model_dump(mode="json"))
    return OutboundMessage(topic=AUDIT, value=value, key=event.subject.encode())
