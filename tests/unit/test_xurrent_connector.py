"""Edge logic of the Xurrent connector that the contract fixtures do not pin down."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import jwt
import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors import (
    AuthenticationFailed,
    ConnectorError,
    InboundRecord,
    InvalidValue,
    MalformedPayload,
    SupplierContext,
    UnsupportedPayload,
    translator_for,
)
from connectors.xurrent import XurrentTranslator
from schemas import (
    ChangeStatus,
    EntityKind,
    HoldReason,
    Incident,
    IncidentStatus,
    Priority,
    SupplierSystem,
    Visibility,
)
from tests.contract._support import context_for

KEY = ec.generate_private_key(ec.SECP256R1())


def _ctx(**overrides: Any) -> SupplierContext:
    return context_for(SupplierSystem.XURRENT, **overrides)


def _translator(**overrides: Any) -> XurrentTranslator:
    return XurrentTranslator(_ctx(**overrides))


def _body(**payload: Any) -> dict[str, Any]:
    event = payload.pop("event", None) or "request.update"
    base: dict[str, Any] = {
        "id": 70112,
        "subject": "Outlook start niet op",
        "category": "incident",
        "impact": "medium",
        "urgent": False,
        "status": "in_progress",
        "team": {"id": 372, "name": "Servicedesk Werkplek"},
        "requested_by": {"id": 1, "name": "Sanne Bakker", "primary_email": "sanne@x.example"},
        "created_at": "2025-03-10T09:15:00+01:00",
        "updated_at": "2025-03-10T09:20:00+01:00",
    }
    base.update(payload)
    return {
        "webhook_id": 945,
        "account_id": "werkplekdienst-drechtsteden",
        "event": event,
        "object_id": 70112,
        "person_id": 8531,
        "person_name": "Noël Çelik",
        "instance_name": "werkplekdienst-drechtsteden",
        "payload": base,
    }


def _record(body: Any, headers: dict[str, bytes] | None = None) -> InboundRecord:
    value = body if isinstance(body, bytes) else json.dumps(body).encode()
    return InboundRecord(value=value, headers=headers or {}, topic="schakel.inbound.werkplekdienst")


def _one(translator: XurrentTranslator, record: InboundRecord) -> Any:
    (translation,) = translator.translate(record)
    return translation


def _signed(claims: dict[str, Any]) -> str:
    return jwt.encode(claims, KEY, algorithm="ES256")


# -- factory and JWT ---------------------------------------------------------------------------


def test_translator_for_builds_the_xurrent_translator() -> None:
    translator = translator_for(_ctx(supplier="x-factory"))
    assert isinstance(translator, XurrentTranslator)
    # built for this supplier: what it translates is that supplier's, as the class gives it
    made = _one(translator, _record(_body()))
    direct = _one(_translator(supplier="x-factory"), _record(_body()))
    assert made.entity.supplier_ref.supplier == "x-factory"
    assert made.entity == direct.entity and made.native_event_key == direct.native_event_key


def test_verified_jwt_body_translates_like_the_plain_body() -> None:
    body = _body()
    plain = _one(_translator(), _record(body))
    token = _signed({"iat": 1741594800, "data": body})
    signed = _one(_translator(), _record({"jwt": token}, {"schakel-verified": b"jwt"}))
    assert signed.entity == plain.entity
    assert signed.native_event_key == plain.native_event_key


def test_bare_token_body_and_header_case_are_accepted() -> None:
    body = _body()
    token = _signed(body)  # the webhook fields as top-level claims
    record = _record(token.encode(), {"Schakel-Verified": b" JWT "})
    assert _one(_translator(), record).entity.supplier_ref.record_id == "70112"


def test_jwt_without_gateway_verification_is_refused() -> None:
    token = _signed({"data": _body()})
    with pytest.raises(AuthenticationFailed, match="unverified JWT body"):
        _translator().translate(_record({"jwt": token}))
    with pytest.raises(AuthenticationFailed):
        _translator().translate(_record({"jwt": token}, {"schakel-verified": b"hmac"}))


def test_jwt_claims_without_a_webhook_are_malformed() -> None:
    token = _signed({"iss": "https://x.xurrent.com", "sub": "nothing"})
    with pytest.raises(MalformedPayload):
        _translator().translate(_record({"jwt": token}, {"schakel-verified": b"jwt"}))


# -- event identity and versions ---------------------------------------------------------------


def test_delivery_header_is_the_event_key() -> None:
    record = _record(_body(), {"x-xurrent-delivery": b"5f0c2a7e-1d4b"})
    assert _one(_translator(), record).native_event_key == "delivery:5f0c2a7e-1d4b"


def test_event_key_is_deterministic_and_changes_with_the_update() -> None:
    translator = _translator()
    first = _one(translator, _record(_body()))
    again = _one(translator, _record(_body()))
    newer = _one(translator, _record(_body(updated_at="2025-03-10T09:21:00+01:00")))
    assert first.native_event_key == again.native_event_key
    assert first.native_event_key != newer.native_event_key
    assert newer.entity.version > first.entity.version
    assert first.entity.version == 1741594800000  # 2025-03-10T08:20:00Z in epoch ms


def test_two_notes_in_the_same_second_get_different_event_keys() -> None:
    def noted(note_id: int) -> dict[str, Any]:
        note = {"id": note_id, "text": f"notitie {note_id}", "internal": False}
        return _body(event="request.note-added", note=note)

    translator = _translator()
    one = _one(translator, _record(noted(1)))
    two = _one(translator, _record(noted(2)))
    assert one.native_event_key != two.native_event_key
    assert one.entity.version == two.entity.version


def test_create_events_are_created_others_updated() -> None:
    translator = _translator()
    assert _one(translator, _record(_body(event="request.create"))).action == "created"
    assert _one(translator, _record(_body(event="request.team-changed"))).action == "updated"


@pytest.mark.parametrize(
    "updated_at", ["1969-12-31T23:59:59+00:00", "0001-01-01T00:00:00+01:00", "2025-13-01T00:00"]
)
def test_unusable_updated_at_is_an_invalid_value(updated_at: str) -> None:
    with pytest.raises(InvalidValue):
        _translator().translate(_record(_body(updated_at=updated_at)))


# -- mapping details ---------------------------------------------------------------------------


def test_supplier_value_maps_extend_the_defaults() -> None:
    translator = _translator(
        value_maps={
            "category": {"rfi": "incident"},
            "status": {"on_backlog": "new"},
            "completion_status": {"no_reply": "cancelled"},
        }
    )
    rfi = _one(translator, _record(_body(category="rfi", status="on_backlog")))
    assert rfi.kind is EntityKind.INCIDENT
    assert rfi.entity.status is IncidentStatus.NEW
    assert rfi.entity.hold_reason is None
    no_reply = _one(translator, _record(_body(status="completed", completion_reason="no_reply")))
    assert no_reply.entity.status is IncidentStatus.CANCELLED


def test_a_site_that_closes_completed_requests_keeps_resolution_and_times() -> None:
    translator = _translator(value_maps={"status": {"completed": "closed"}})
    done = _body(status="completed", completion_reason="solved", completed_at="2025-03-10T10:00Z")
    withdrawn = dict(done, payload=dict(done["payload"], completion_reason="withdrawn"))
    closed = _one(translator, _record(done)).entity
    cancelled = _one(translator, _record(withdrawn)).entity
    assert closed.status is IncidentStatus.CLOSED
    assert closed.resolution is not None and closed.resolution.supplier_code == "solved"
    assert closed.resolved_at == closed.closed_at == datetime(2025, 3, 10, 10, tzinfo=UTC)
    assert cancelled.status is IncidentStatus.CANCELLED
    assert cancelled.resolved_at is None and cancelled.closed_at is not None


def test_a_bad_value_map_override_fails_at_construction() -> None:
    with pytest.raises(ValueError, match="change_on_hold"):
        _translator(value_maps={"change_on_hold": {"assigned": "misschien"}})


@pytest.mark.parametrize(
    ("impact", "urgent", "priority"),
    [
        ("top", False, Priority.P1),
        ("high", False, Priority.P2),
        ("medium", False, Priority.P3),
        ("low", False, Priority.P4),
        ("top", True, Priority.P1),
        ("high", True, Priority.P1),
        ("medium", True, Priority.P2),
        ("low", True, Priority.P3),
    ],
)
def test_priority_ladder(impact: str, urgent: bool, priority: Priority) -> None:
    entity = _one(_translator(), _record(_body(impact=impact, urgent=urgent))).entity
    assert entity.priority is priority


def test_urgent_complaint_without_impact_is_p3() -> None:
    body = _body(category="complaint", impact=None, urgent=True)
    entity = _one(_translator(), _record(body)).entity
    assert (entity.priority, entity.impact) == (Priority.P3, None)


def test_rfc_on_hold_except_workflow_pending() -> None:
    translator = _translator()
    waiting = _one(translator, _record(_body(category="rfc", status="waiting_for"))).entity
    workflow = _one(translator, _record(_body(category="rfc", status="workflow_pending"))).entity
    assert (waiting.status, waiting.on_hold) == (ChangeStatus.ASSESS, True)
    assert (workflow.status, workflow.on_hold) == (ChangeStatus.IMPLEMENT, False)


def test_only_other_holds_become_awaiting_supplier() -> None:
    supplier = {"id": 44, "name": "Microsoft"}
    translator = _translator()
    customer = _body(status="waiting_for_customer", supplier=supplier)
    backlog = _body(status="on_backlog", supplier=supplier)
    assert _one(translator, _record(customer)).entity.hold_reason is HoldReason.AWAITING_CALLER
    assert _one(translator, _record(backlog)).entity.hold_reason is HoldReason.AWAITING_SUPPLIER


def test_no_personal_contact_data_is_carried() -> None:
    entity = _one(_translator(), _record(_body())).entity
    dumped = orjson.dumps(entity.model_dump(mode="json"))
    assert b"sanne@x.example" not in dumped
    assert b"Sanne Bakker" not in dumped


def test_long_texts_are_clipped_to_the_model_limits() -> None:
    body = _body(
        subject="S" * 1000,
        description="D" * 250_000,
        note={"id": 9, "text": "N" * 250_000, "internal": True},
        event="request.note-added",
    )
    entity: Incident = _one(_translator(), _record(body)).entity
    assert len(entity.title) == 400 and entity.title.endswith("…")
    assert len(entity.description) == 200_000
    assert len(entity.comments[0].body) == 200_000


def test_enriched_notes_list_is_sorted_deduplicated_and_not_an_echo() -> None:
    notes = [
        {"id": 2, "text": "tweede", "internal": True, "created_at": "2025-03-10T09:10:00+01:00"},
        {
            "id": 1,
            "text": "[schakel] antwoord van FB",
            "internal": False,
            "person": {"name": "schakel-integration"},
            "created_at": "2025-03-10T09:05:00+01:00",
        },
        {"id": 3, "text": "   ", "internal": False},
        {"id": 4, "text": "zonder zichtbaarheid", "created_at": "2025-03-10T09:12:00+01:00"},
    ]
    note = copy.deepcopy(notes[0])
    entity = _one(_translator(), _record(_body(notes=notes, note=note))).entity
    assert [c.body for c in entity.comments] == [
        "[schakel] antwoord van FB",
        "tweede",
        "zonder zichtbaarheid",
    ]
    assert [c.by_schakel for c in entity.comments] == [True, False, False]
    assert entity.comments[2].visibility is Visibility.INTERNAL  # unknown: never leak
    assert entity.origin.by_schakel is False  # an old Schakel note is history, not this event


def test_ci_custom_field_names_come_from_options() -> None:
    options = {
        "ci_field_gemeenten": "u_gemeente",
        "ci_field_gemma": "u_gemma",
        "ci_field_fb_team": "u_fb",
    }
    body = {
        "webhook_id": 947,
        "event": "ci.update",
        "object_id": 6101,
        "person_name": "Ruud Ĳzerman",
        "payload": {
            "id": 6101,
            "name": "Zaaksysteem Drechtsteden",
            "status": "in_production",
            "product": {"id": 1, "name": "Zaaksysteem", "category": {"id": 2, "name": "SaaS"}},
            "updated_at": "2025-03-10T09:20:00+01:00",
            "custom_fields": [
                {"id": "u_gemeente", "value": ["GM0505", "0482"]},
                {"id": "u_gemma", "value": "Zaakregistratiecomponent"},
                {"id": "u_fb", "value": "fb-zaken"},
                {"id": "gemeenten", "value": ["GM0610"]},
            ],
        },
    }
    ci = _one(_translator(options=options), _record(body)).entity
    assert ci.gemeenten == ("GM0482", "GM0505")  # sorted: one rule (connectors.kit)
    assert (ci.gemma_component, ci.fb_team) == ("Zaakregistratiecomponent", "fb-zaken")


def test_webhook_verify_says_why() -> None:
    body = {"event": "webhook.verify", "object_id": 1, "payload": {"callback": "https://x"}}
    with pytest.raises(UnsupportedPayload, match=r"webhook\.verify"):
        _translator().translate(_record(body))


# -- robustness --------------------------------------------------------------------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)
_FIELDS = [
    "id",
    "subject",
    "category",
    "impact",
    "urgent",
    "status",
    "previous_status",
    "completion_reason",
    "team",
    "member",
    "service_instance",
    "ci",
    "supplier",
    "supplier_requestID",
    "created_at",
    "updated_at",
    "completed_at",
    "response_target_at",
    "resolution_target_at",
    "reopen_count",
    "description",
    "note",
    "notes",
    "name",
    "label",
    "product",
    "rule_set",
    "support_team",
    "custom_fields",
]
_plausible = {
    "category": st.sampled_from(["incident", "complaint", "rfc", "rfi", ""]),
    "status": st.sampled_from(["assigned", "completed", "waiting_for", "in_production", ""]),
    "impact": st.sampled_from(["low", "top", "x", ""]),
    "updated_at": st.sampled_from(["2025-03-10T09:20:00+01:00", "0001-01-01T00:00:00+14:00"]),
    "created_at": st.sampled_from(["2025-03-10T09:20:00Z", "best_effort", "9999-12-31T23:59:59"]),
    "resolution_target_at": st.sampled_from(["clock_stopped", "2025-03-10T09:20:00", 12]),
}
_payload = st.fixed_dictionaries(
    {},
    optional={f: (_plausible[f] | _json) if f in _plausible else _json for f in _FIELDS},
)
_events = st.sampled_from(
    ["request.create", "request.update", "request.note-added", "ci.create", "ci.update", "x"]
)


def _only_connector_errors(translator: XurrentTranslator, record: InboundRecord) -> None:
    try:
        result = translator.translate(record)
    except ConnectorError:
        return
    assert len(result) == 1


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event=_events, payload=_payload, object_id=_json, person=_json)
def test_arbitrary_payloads_raise_only_connector_errors(
    event: str, payload: dict[str, Any], object_id: Any, person: Any
) -> None:
    body = {"event": event, "object_id": object_id, "person_name": person, "payload": payload}
    _only_connector_errors(_translator(), _record(body))


@settings(max_examples=200, deadline=None)
@given(document=_json)
def test_arbitrary_json_raises_only_connector_errors(document: Any) -> None:
    _only_connector_errors(_translator(), _record(document))
    _only_connector_errors(_translator(), _record({"jwt": document}, {"schakel-verified": b"jwt"}))


@settings(max_examples=200, deadline=None)
@given(value=st.binary(max_size=200))
def test_arbitrary_bytes_raise_only_connector_errors(value: bytes) -> None:
    _only_connector_errors(_translator(), _record(value, {"schakel-verified": b"jwt"}))
    _only_connector_errors(_translator(), _record(b"eyJ" + value + b".x.y"))


@settings(max_examples=100, deadline=None)
@given(claims=st.dictionaries(st.text(max_size=8), _json, max_size=5), payload=_payload)
def test_arbitrary_verified_jwt_claims_raise_only_connector_errors(
    claims: dict[str, Any], payload: dict[str, Any]
) -> None:
    claims = dict(claims, data={"event": "request.update", "object_id": 1, "payload": payload})
    token = _signed(claims)
    _only_connector_errors(_translator(), _record({"jwt": token}, {"schakel-verified": b"jwt"}))
