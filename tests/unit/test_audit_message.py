"""Audit records carry the hub's event headers (schemas.wire) and are keyed by the ticket."""

from __future__ import annotations

from datetime import UTC, datetime

from schemas.audit import AuditEntry, AuditEvent
from schemas.topics import AUDIT
from services.audit import audit_message

AT = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)


def _entry(hub_id: str | None) -> AuditEntry:
    return AuditEntry(
        action="delivery.delivered",
        outcome="ok",
        actor="delivery",
        hub_id=hub_id,
        at=AT,
        summary="afgeleverd",
    )


def test_an_audit_record_about_a_ticket_names_its_event_and_ticket() -> None:
    message = audit_message(_entry("hub-1"), "key-1", "delivered")
    event = AuditEvent.model_validate_json(message.value)
    assert message.topic == AUDIT and message.key == b"hub-1"
    assert dict(message.headers) == {
        "content-type": b"application/cloudevents+json; charset=utf-8",
        "schakel-event-id": event.id.encode(),
        "schakel-hub-id": b"hub-1",
    }
    assert audit_message(_entry("hub-1"), "key-1", "delivered").headers == message.headers


def test_an_audit_record_about_no_ticket_has_no_hub_id_header() -> None:
    message = audit_message(_entry(None), "login")
    assert message.key == b"delivery"  # the actor
    assert "schakel-hub-id" not in dict(message.headers)
    assert (
        dict(message.headers)["schakel-event-id"]
        == AuditEvent.model_validate_json(message.value).id.encode()
    )
