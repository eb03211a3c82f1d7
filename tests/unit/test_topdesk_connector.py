"""Edge logic of the TOPdesk translator that the contract fixtures do not pin down alone."""

from __future__ import annotations

import copy
import random
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors import ConnectorError, InboundRecord, SupplierContext, translator_for
from connectors.errors import InvalidValue
from connectors.topdesk import TopdeskTranslator
from schemas import (
    Change,
    ChangeStatus,
    ConfigurationItem,
    HoldReason,
    Incident,
    IncidentStatus,
    Priority,
    SupplierSystem,
    Visibility,
)
from services.demo import gen_topdesk
from tests.contract._support import context_for

INCIDENT_ID = "5a1c8a4e-3f0b-4c8e-9d7a-2b6f1e0c9a11"


def _ctx(**overrides: Any) -> SupplierContext:
    return context_for(SupplierSystem.TOPDESK, **overrides)


def _incident(**fields: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": INCIDENT_ID,
        "number": "I2505 058",
        "status": "secondLine",
        "briefDescription": "Key2Burgerzaken: foutcode RDA-17",
        "request": "Balie kan geen reisdocumenten aanvragen.",
        "priority": {"id": "0e3f8c1a-0000-4000-8000-000000000002", "name": "Hoog"},
        "processingStatus": {
            "id": "0e3f8c1a-0000-4000-8000-000000000010",
            "name": "In behandeling",
        },
        "operator": {"id": "0e3f8c1a-0000-4000-8000-000000000017", "name": "Pieter de Groot"},
        "creationDate": "2025-05-20T07:41:12.000+0000",
        "modificationDate": "2025-05-20T08:15:47.512+0000",
    }
    doc.update(fields)
    return doc


def _one(doc: object, ctx: SupplierContext | None = None, **headers: str) -> Any:
    translator = TopdeskTranslator(ctx or _ctx())
    record = InboundRecord(
        value=orjson.dumps(doc),
        headers={k.replace("_", "-"): v.encode() for k, v in headers.items()},
    )
    (translation,) = translator.translate(record)
    return translation


def _action(
    action_id: str, at: str, text: str, *, hidden: object = False, by: str = "Pieter"
) -> Any:
    return {
        "id": action_id,
        "memoText": text,
        "plainText": text,
        "invisibleForCaller": hidden,
        "entryDate": at,
        "operator": {"id": "0e3f8c1a-0000-4000-8000-000000000099", "name": by},
        "person": None,
    }


def test_factory_builds_the_topdesk_translator() -> None:
    ctx = _ctx(supplier="td-factory")
    translator = translator_for(ctx)
    assert isinstance(translator, TopdeskTranslator)
    # built for this supplier: what it translates is that supplier's, as the class gives it
    (made,) = translator.translate(InboundRecord(value=orjson.dumps(_incident())))
    assert made.entity.supplier_ref.supplier == "td-factory"
    assert made.entity == _one(_incident(), ctx).entity


# -- value maps from the supplier's configuration --------------------------------------


def test_site_value_maps_override_and_extend_the_defaults() -> None:
    ctx = _ctx(
        value_maps={
            "priority": {"Spoed": "P1", "Hoog": "P1"},
            "status": {"Bij Centric": "on_hold"},
            "hold_reason": {"Bij Centric": "awaiting_supplier"},
        }
    )
    doc = _incident(priority={"name": "Spoed"}, processingStatus={"name": "Bij Centric"})
    incident = _one(doc, ctx).entity
    assert incident.priority is Priority.P1
    assert incident.status is IncidentStatus.ON_HOLD
    assert incident.hold_reason is HoldReason.AWAITING_SUPPLIER
    assert _one(_incident(), ctx).entity.priority is Priority.P1  # "Hoog" redefined


def test_example_config_value_maps_are_accepted() -> None:
    ctx = _ctx(
        value_maps={
            "priority": {"Hoog": "P2", "Normaal": "P3", "Laag": "P4"},
            "status": {"Wacht op leverancier": "on_hold", "Wacht op aanmelder": "on_hold"},
        }
    )
    incident = _one(_incident(processingStatus={"name": "Wacht op aanmelder"}), ctx).entity
    assert incident.status is IncidentStatus.ON_HOLD
    assert incident.hold_reason is HoldReason.AWAITING_CALLER


def test_default_priority_option_fills_a_missing_priority() -> None:
    doc = _incident(priority=None)
    unknown = _one(doc).entity
    assert (unknown.priority, unknown.priority_given) == (None, False)
    ctx = _ctx(options={"default_priority": "P3"})
    defaulted = _one(doc, ctx).entity
    assert (defaulted.priority, defaulted.priority_given) == (Priority.P3, False)


def test_priority_prefix_does_not_read_durations() -> None:
    assert _one(_incident(priority={"name": "Prio 1"})).entity.priority is Priority.P1
    assert _one(_incident(priority={"name": "3 - Gemiddeld"})).entity.priority is Priority.P3
    with pytest.raises(InvalidValue):
        _one(_incident(priority={"name": "1 werkdag"}))


def test_unknown_processing_status_falls_back_to_assignment() -> None:
    doc = _incident(processingStatus={"name": "Doorgezet naar 2e lijn"})
    assert _one(doc).entity.status is IncidentStatus.IN_PROGRESS
    doc["operator"] = None
    assert _one(doc).entity.status is IncidentStatus.NEW


# -- progress trail, visibility and echoes ---------------------------------------------


def test_action_without_visibility_flag_is_internal() -> None:
    doc = _incident(
        actions=[
            {"id": "a1", "memoText": "Zonder vlag", "entryDate": "2025-05-20T08:00:00Z"},
            _action("a2", "2025-05-20T08:01:00Z", "Zichtbaar", hidden="false"),
        ]
    )
    comments = _one(doc).entity.comments
    assert [c.visibility for c in comments] == [Visibility.INTERNAL, Visibility.PUBLIC]


def test_html_memo_without_plain_text_is_read_as_text() -> None:
    entry = {
        "id": "a1",
        "memoText": "<p>Regel één<br/>Regel &amp; twee</p>",
        "invisibleForCaller": False,
        "entryDate": "2025-05-20T08:00:00.000+0000",
    }
    (comment,) = _one(_incident(progressTrail=[entry])).entity.comments
    assert comment.body == "Regel één\nRegel & twee"
    assert comment.author is None


def test_action_list_given_as_url_is_ignored() -> None:
    doc = _incident(actions=f"/tas/api/incidents/id/{INCIDENT_ID}/actions")
    assert _one(doc).entity.comments == ()


def test_schakel_comment_outside_the_echo_window_is_not_an_echo() -> None:
    marker_text = "[schakel] reactie van de FB"
    near = _incident(progressTrail=[_action("a1", "2025-05-20T08:15:46.000+0000", marker_text)])
    far = _incident(progressTrail=[_action("a1", "2025-05-20T08:15:44.000+0000", marker_text)])
    assert _one(near).entity.origin.by_schakel is True
    assert _one(far).entity.origin.by_schakel is False
    assert _one(far).entity.comments[0].by_schakel is True


def test_modifier_decides_the_origin_over_the_trail() -> None:
    doc = _incident(
        modifier={"id": "m", "name": "Pieter de Groot"},
        progressTrail=[_action("a1", "2025-05-20T08:15:47.000+0000", "[schakel] echo")],
    )
    origin = _one(doc).entity.origin
    assert origin.by_schakel is False
    assert origin.actor == "Pieter de Groot"


def test_configured_schakel_account_is_recognised_case_insensitively() -> None:
    ctx = _ctx(schakel_accounts=frozenset({"api koppeling regie"}))
    doc = _incident(modifier={"name": "API Koppeling Regie"})
    assert _one(doc, ctx).entity.origin.by_schakel is True


# -- event identity --------------------------------------------------------------------


def test_redelivery_gives_the_same_key_and_an_update_a_new_one() -> None:
    doc = _incident(progressTrail=[_action("a1", "2025-05-20T08:00:00Z", "Eerste reactie")])
    first = _one(doc)
    assert _one(copy.deepcopy(doc)).native_event_key == first.native_event_key
    assert first.entity.version == 1747728947512

    newer = _incident(modificationDate="2025-05-20T08:15:48.000+0000")
    assert _one(newer).native_event_key != first.native_event_key
    assert _one(newer).entity.version > first.entity.version

    more = copy.deepcopy(doc)
    more["progressTrail"].append(_action("a2", "2025-05-20T08:10:00Z", "Tweede"))
    assert _one(more).native_event_key != first.native_event_key


def test_action_is_created_only_right_after_creation() -> None:
    created = _incident(modificationDate="2025-05-20T07:41:12.900+0000")
    assert _one(created).action == "created"
    assert _one(_incident()).action == "updated"
    earlier = _incident(modificationDate="2025-05-20T07:41:11.000+0000")
    assert _one(earlier).action == "updated"


# -- entity detection ------------------------------------------------------------------


def test_header_is_case_insensitive_and_beats_the_shape() -> None:
    doc = {"unid": "u1", "name": "App", "modificationDate": "2025-05-19T14:22:05"}
    assert isinstance(_one(doc, schakel_entity="CI").entity, ConfigurationItem)
    change = _incident(changeType="simple")
    assert isinstance(_one(change).entity, Change)
    assert isinstance(_one(change, schakel_entity="incident").entity, Incident)


# -- changes and assets ----------------------------------------------------------------


def test_change_rejected_flag_cancels() -> None:
    doc = _incident(changeType="extensive", status={"name": "In uitvoering"}, rejected=True)
    assert _one(doc).entity.status is ChangeStatus.CANCELLED


def test_change_status_value_map_override() -> None:
    ctx = _ctx(value_maps={"change_status": {"Bij CAB": "authorize"}})
    doc = _incident(changeType="extensive", status={"name": "Bij CAB"})
    assert _one(doc, ctx).entity.status is ChangeStatus.AUTHORIZE


def test_asset_field_names_come_from_options() -> None:
    ctx = _ctx(
        options={
            "ci_field_gemeenten": "eigenaren",
            "ci_field_gemma_component": "gemma",
            "ci_field_fb_team": "team",
            "ci_field_support_group": "beheergroep",
        }
    )
    asset = {
        "unid": "u1",
        "name": "Zaaksysteem",
        "modificationDate": "2025-05-19T14:22:05.000",
        "eigenaren": "GM0505,GM0590",
        "gemeenten": "niet dit veld",
        "gemma": {"id": "x", "name": "Zaakregistratiecomponent"},
        "team": "fb-zaken",
        "beheergroep": {"id": "y", "name": "Applicatiebeheer DC"},
    }
    ci = _one({"dataSet": [asset]}, ctx).entity
    assert ci.gemeenten == ("GM0505", "GM0590")
    assert ci.gemma_component == "Zaakregistratiecomponent"
    assert ci.fb_team == "fb-zaken"
    assert ci.support_group == "Applicatiebeheer DC"


def test_overlong_texts_are_clipped_not_rejected() -> None:
    doc = _incident(briefDescription="x" * 500, request="y" * 250_000)
    incident = _one(doc).entity
    assert len(incident.title) == 400
    assert incident.title.endswith("…")
    assert len(incident.description) == 200_000


def test_datetime_out_of_range_is_invalid_value() -> None:
    with pytest.raises(InvalidValue):
        _one(_incident(modificationDate="0001-01-01T00:00:00+0100"))
    with pytest.raises(InvalidValue):
        _one(_incident(modificationDate=10**18))


# -- robustness: only ConnectorError, for any input ------------------------------------

_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=20,
)
_FIELDS = [
    "id",
    "number",
    "status",
    "briefDescription",
    "request",
    "priority",
    "impact",
    "urgency",
    "processingStatus",
    "closureCode",
    "operator",
    "operatorGroup",
    "onHold",
    "completed",
    "completedDate",
    "closed",
    "closedDate",
    "modifier",
    "creationDate",
    "modificationDate",
    "targetDate",
    "sla",
    "progressTrail",
    "actions",
    "object",
    "asset",
    "changeType",
    "phase",
    "plannedStartDate",
    "unid",
    "dataSet",
    "gemeenten",
    "@status",
    "archived",
]
_TRANSLATOR = TopdeskTranslator(_ctx())


def _only_connector_errors(value: bytes, headers: dict[str, bytes] | None = None) -> None:
    try:
        out = _TRANSLATOR.translate(InboundRecord(value=value, headers=headers or {}))
    except ConnectorError:
        return
    assert out


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_raise_only_connector_errors(value: bytes) -> None:
    _only_connector_errors(value)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(_JSON)
def test_arbitrary_json_raises_only_connector_errors(document: object) -> None:
    _only_connector_errors(orjson.dumps(document))


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.dictionaries(st.sampled_from(_FIELDS), _JSON, max_size=12),
    st.sampled_from([None, b"incident", b"change", b"ci"]),
)
def test_mutated_topdesk_records_raise_only_connector_errors(
    mutation: dict[str, object], entity: bytes | None
) -> None:
    base = _incident(changeType="simple") if entity == b"change" else _incident()
    if entity == b"ci":
        base = {"unid": "u1", "name": "App", "modificationDate": "2025-05-19T14:22:05"}
    base.update(mutation)
    headers = {"schakel-entity": entity} if entity else {}
    _only_connector_errors(orjson.dumps(base), headers)


def test_demo_generators_translate() -> None:
    now = datetime(2025, 5, 20, 12, 0, tzinfo=UTC)
    rng = random.Random(3)
    for serial in range(300):
        topic, key, value = gen_topdesk.topdesk_mixed(rng, serial, now)
        assert topic == "schakel.inbound.centric"
        assert key
        assert _TRANSLATOR.translate(InboundRecord(value=value, topic=topic))


@pytest.mark.parametrize("value", [[["GM0505"]], 505, [True], ["GM505"], "GM0505,Dordrecht"])
def test_unreadable_gemeenten_are_refused_not_dropped(value: object) -> None:
    asset = {"unid": "u1", "name": "App", "modificationDate": "2025-05-19T14:22:05"}
    asset["gemeenten"] = value
    with pytest.raises(InvalidValue):
        _one({"dataSet": [asset]})
