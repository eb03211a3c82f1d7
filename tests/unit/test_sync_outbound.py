"""Replies -> native requests, per supplier system (connectors/<system>/outbound.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from connectors import SupplierContext, UnsupportedPayload
from connectors.outbound import ReplyTarget, outbound_for, reply_text
from schemas import EntityKind, Priority, SupplierRef, SupplierSystem, Visibility
from schemas.replies import REPLY_TYPES, Reply, ReplyAction, ReplyEvent, reply_type

HUB = "0f8e7d6c-5b4a-5392-8170-6f5e4d3c2b1a"
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def reply(action: ReplyAction = ReplyAction.COMMENT, **fields: Any) -> Reply:
    defaults: dict[str, Any] = {
        "reply_id": "r-1",
        "hub_id": HUB,
        "gemeente": "GM0505",
        "team": "fb-zaken",
        "action": action,
        "body": "Graag een update: gebruikers kunnen nog steeds niet opslaan.",
        "created_at": NOW,
        "author": "Fatma Yilmaz",
    }
    return Reply(**{**defaults, **fields})


def ctx(system: SupplierSystem, **options: str) -> SupplierContext:
    return SupplierContext(
        supplier="kpn",
        system=system,
        source="urn:nld:kvk:90000011:systeem:x",
        options=options,
        schakel_marker="[schakel]",
    )


def target(
    system: SupplierSystem,
    kind: EntityKind = EntityKind.INCIDENT,
    record_id: str = "9d385017c611228701d22104cc95c371",
    correlation_id: str | None = None,
) -> ReplyTarget:
    return ReplyTarget(
        kind,
        SupplierRef(
            supplier="kpn",
            system=system,
            record_id=record_id,
            number="INC0000046",
            correlation_id=correlation_id,
        ),
    )


def translate(system: SupplierSystem, r: Reply, t: ReplyTarget | None = None, **options: str):  # type: ignore[no-untyped-def]
    return outbound_for(system)(r, t or target(system), ctx(system, **options))


# -- the reply model ----------------------------------------------------------------------


def test_reply_rules_per_action() -> None:
    with pytest.raises(ValidationError, match="needs a body"):
        reply(body="  ")
    with pytest.raises(ValidationError, match="needs a reason"):
        reply(ReplyAction.REJECT_RESOLUTION, body="")
    with pytest.raises(ValidationError, match="needs the new priority"):
        reply(ReplyAction.RAISE_PRIORITY, reason="raad ligt stil")
    with pytest.raises(ValidationError, match="only allowed with raise_priority"):
        reply(priority=Priority.P1)
    with pytest.raises(ValidationError):
        reply(gemeente="0505")
    assert reply(ReplyAction.ACCEPT_RESOLUTION, body="").body == ""


def test_reply_event_types_and_consistency() -> None:
    assert reply_type(ReplyAction.REJECT_RESOLUTION) == "nl.itsm.reply.rejectresolution.v1"
    assert len(set(REPLY_TYPES.values())) == len(ReplyAction)
    event = ReplyEvent.of(reply(), "urn:nld:kvk:00000000:systeem:schakel-replies")
    assert (event.id, event.subject, event.type) == ("r-1", HUB, "nl.itsm.reply.comment.v1")
    again = ReplyEvent.model_validate_json(event.model_dump_json())
    assert again == event
    tampered = event.model_dump(mode="json") | {"type": "nl.itsm.reply.rejectresolution.v1"}
    with pytest.raises(ValidationError, match="type must be"):
        ReplyEvent.model_validate(tampered)


def test_reply_text_starts_with_the_marker() -> None:
    text = reply_text(
        reply(ReplyAction.RAISE_PRIORITY, priority=Priority.P2, reason="Balie dicht", body=""),
        "[schakel]",
    )
    assert text.startswith("[schakel] Prioriteit verhoogd naar P2 door functioneel beheer GM0505")
    assert "Fatma Yilmaz" in text and "Reden: Balie dicht" in text


# -- ServiceNow ---------------------------------------------------------------------------


def test_servicenow_comment_public_and_internal_with_correlation() -> None:
    [public] = translate(SupplierSystem.SERVICENOW, reply())
    assert public.method == "PATCH"
    assert public.path == "api/now/table/incident/9d385017c611228701d22104cc95c371"
    assert public.body["comments"].startswith("[schakel] Reactie van functioneel beheer")
    assert public.body["correlation_id"] == HUB
    assert public.body["correlation_display"] == "Schakel"
    assert "work_notes" not in public.body and "state" not in public.body
    [internal] = translate(SupplierSystem.SERVICENOW, reply(visibility=Visibility.INTERNAL))
    assert "comments" not in internal.body and internal.body["work_notes"].startswith("[schakel]")


def test_servicenow_keeps_another_partners_correlation() -> None:
    t = target(SupplierSystem.SERVICENOW, correlation_id="PARTNER-77")
    [request] = translate(SupplierSystem.SERVICENOW, reply(), t)
    assert "correlation_id" not in request.body and "correlation_display" not in request.body


def test_servicenow_states_and_priority() -> None:
    [reject] = translate(
        SupplierSystem.SERVICENOW, reply(ReplyAction.REJECT_RESOLUTION, reason="Nog steeds kapot")
    )
    assert reject.body["state"] == "2" and reject.body["comments"].startswith("[schakel]")
    [accept] = translate(SupplierSystem.SERVICENOW, reply(ReplyAction.ACCEPT_RESOLUTION))
    assert accept.body["state"] == "7"
    [raised] = translate(
        SupplierSystem.SERVICENOW,
        reply(ReplyAction.RAISE_PRIORITY, priority=Priority.P1, reason="Verkiezingen"),
    )
    assert (raised.body["impact"], raised.body["urgency"]) == ("1", "1")
    assert "priority" not in raised.body  # derived by ServiceNow from impact x urgency
    assert all(isinstance(v, str) for v in raised.body.values())  # Table API: strings


def test_servicenow_change_request_table_and_no_resolution_on_changes() -> None:
    t = target(SupplierSystem.SERVICENOW, EntityKind.CHANGE)
    [request] = translate(SupplierSystem.SERVICENOW, reply(), t)
    assert request.path.startswith("api/now/table/change_request/")
    with pytest.raises(UnsupportedPayload, match="applies to incidents"):
        translate(SupplierSystem.SERVICENOW, reply(ReplyAction.ACCEPT_RESOLUTION), t)


# -- TOPdesk ------------------------------------------------------------------------------


def test_topdesk_action_entry_and_reopen() -> None:
    [comment] = translate(SupplierSystem.TOPDESK, reply(visibility=Visibility.INTERNAL))
    assert comment.method == "PATCH"
    assert comment.path == "incidents/id/9d385017c611228701d22104cc95c371"
    assert comment.body["action"].startswith("[schakel]")
    assert comment.body["actionInvisibleForCaller"] is True
    assert comment.body["externalNumber"] == HUB and len(HUB) <= 60
    [reject] = translate(SupplierSystem.TOPDESK, reply(ReplyAction.REJECT_RESOLUTION, reason="x"))
    assert reject.body["completed"] is False and reject.body["actionInvisibleForCaller"] is False
    [accept] = translate(SupplierSystem.TOPDESK, reply(ReplyAction.ACCEPT_RESOLUTION))
    assert accept.body["closed"] is True


def test_topdesk_priority_by_site_name_and_no_change_replies() -> None:
    raise_p2 = reply(ReplyAction.RAISE_PRIORITY, priority=Priority.P2, reason="x")
    [default] = translate(SupplierSystem.TOPDESK, raise_p2)
    assert default.body["priority"] == {"name": "P2 - Hoog"}
    [site] = translate(SupplierSystem.TOPDESK, raise_p2, priority_P2="Hoog")
    assert site.body["priority"] == {"name": "Hoog"}
    with pytest.raises(UnsupportedPayload, match="incidents only"):
        translate(
            SupplierSystem.TOPDESK, reply(), target(SupplierSystem.TOPDESK, EntityKind.CHANGE)
        )


# -- Jira ---------------------------------------------------------------------------------


def test_jira_comment_adf_and_internal_property() -> None:
    [comment] = translate(
        SupplierSystem.JIRA,
        reply(visibility=Visibility.INTERNAL),
        target(SupplierSystem.JIRA, record_id="10021"),
    )
    assert (comment.method, comment.path) == ("POST", "issue/10021/comment")
    doc = comment.body["body"]
    assert doc["type"] == "doc" and doc["version"] == 1
    first = doc["content"][0]["content"][0]
    assert first["type"] == "text" and first["text"].startswith("[schakel] Reactie")
    assert comment.body["properties"] == [{"key": "sd.public.comment", "value": {"internal": True}}]


def test_jira_reject_needs_and_uses_the_reopen_transition() -> None:
    rejected = reply(ReplyAction.REJECT_RESOLUTION, reason="Werkt niet")
    t = target(SupplierSystem.JIRA, record_id="10021")
    with pytest.raises(UnsupportedPayload, match="reopen_transition"):
        translate(SupplierSystem.JIRA, rejected, t)
    comment, transition = translate(SupplierSystem.JIRA, rejected, t, reopen_transition="31")
    assert comment.path == "issue/10021/comment"
    assert (transition.method, transition.path) == ("POST", "issue/10021/transitions")
    assert transition.body == {"transition": {"id": "31"}}
    assert len(translate(SupplierSystem.JIRA, reply(ReplyAction.ACCEPT_RESOLUTION), t)) == 1
    _, closing = translate(
        SupplierSystem.JIRA, reply(ReplyAction.ACCEPT_RESOLUTION), t, accept_transition="41"
    )
    assert closing.body == {"transition": {"id": "41"}}


def test_jira_raise_priority() -> None:
    update, comment = translate(
        SupplierSystem.JIRA,
        reply(ReplyAction.RAISE_PRIORITY, priority=Priority.P1, reason="x"),
        target(SupplierSystem.JIRA, record_id="10021"),
    )
    assert (update.method, update.path) == ("PUT", "issue/10021")
    assert update.body == {"fields": {"priority": {"name": "Highest"}}}
    assert comment.path.endswith("/comment")


# -- Xurrent ------------------------------------------------------------------------------


def test_xurrent_note_status_and_impact() -> None:
    t = target(SupplierSystem.XURRENT, record_id="70061")
    [note] = translate(SupplierSystem.XURRENT, reply(), t, account="wdc")
    assert (note.method, note.path) == ("PATCH", "requests/70061")
    assert note.body["note"].startswith("[schakel]") and note.body["internal_note"] is False
    assert note.headers["X-4me-Account"] == "wdc"
    [reject] = translate(
        SupplierSystem.XURRENT, reply(ReplyAction.REJECT_RESOLUTION, reason="x"), t
    )
    assert reject.body["status"] == "in_progress"
    [raised] = translate(
        SupplierSystem.XURRENT,
        reply(ReplyAction.RAISE_PRIORITY, priority=Priority.P1, reason="x"),
        t,
    )
    assert raised.body["impact"] == "top"


def test_mapped_supplier_gets_the_common_reply() -> None:
    [request] = translate(SupplierSystem.MAPPED, reply())
    assert (request.method, request.path) == ("POST", "replies")
    assert request.body["reply_id"] == "r-1" and request.body["text"].startswith("[schakel]")
    assert request.body["supplier_ref"]["record_id"] == "9d385017c611228701d22104cc95c371"
