"""ServiceNow connector: the edge logic behind the contract fixtures."""

from __future__ import annotations

import contextlib
import random
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors import (
    ConnectorError,
    InboundRecord,
    InvalidValue,
    MissingField,
    SupplierContext,
    Translation,
    UnsupportedPayload,
)
from connectors._time import parse_datetime
from connectors.servicenow import ServiceNowTranslator, _common
from connectors.servicenow._common import Lookup, Shared
from connectors.servicenow._maps import INCIDENT_STATE
from connectors.servicenow._native import (
    display,
    flag,
    integer,
    is_label,
    moment,
    raw,
    records_of,
    reference,
    stamp,
)
from connectors.servicenow.translate import table_of
from schemas import (
    ChangeStatus,
    CiStatus,
    ConfigurationItem,
    EntityKind,
    Incident,
    IncidentStatus,
    SupplierSystem,
    derived_id,
    hub_id,
)
from services.demo import gen_servicenow
from services.demo.traffic import servicenow_incident
from tests.contract._support import context_for

SYS_ID = "0123456789abcdef0123456789abcdef"
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def _ctx(**overrides: Any) -> SupplierContext:
    return context_for(SupplierSystem.SERVICENOW, **overrides)


def _translate(
    payload: object, headers: dict[str, bytes] | None = None, **ctx: Any
) -> list[Translation]:
    record = InboundRecord(value=orjson.dumps(payload), headers=headers or {})
    return list(ServiceNowTranslator(_ctx(**ctx)).translate(record))


def _incident(**fields: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "sys_id": SYS_ID,
        "sys_class_name": "incident",
        "number": "INC0010001",
        "short_description": "Zaaksysteem traag",
        "state": "2",
        "impact": "2",
        "urgency": "2",
        "priority": "",
        "sys_updated_on": "2026-03-02 10:00:00",
        "sys_updated_by": "jan.devries",
        "sys_mod_count": "3",
    }
    rec.update(fields)
    return rec


def _ci(**fields: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "sys_id": SYS_ID,
        "sys_class_name": "cmdb_ci_appl",
        "name": "Zaaksysteem",
        "operational_status": "1",
        "u_gemeenten": "GM0505",
        "u_gemma_component": "Zaakregistratiecomponent",
        "u_fb_team": "fb-zaken",
        "sys_updated_on": "2026-03-02 10:00:00",
        "sys_mod_count": "3",
    }
    rec.update(fields)
    return rec


def _only(translations: list[Translation]) -> Any:
    assert len(translations) == 1
    return translations[0].entity


# --- field readers -----------------------------------------------------------------------


def test_readers_accept_every_form() -> None:
    rec = {
        "a": "2",
        "b": 2,
        "c": 3.0,
        "d": True,
        "e": {"display_value": "In Progress", "value": "2"},
        "f": {"link": "https://x/api/now/table/sys_user/1", "value": SYS_ID},
        "g": {"display_value": "", "value": "7"},
        "h": None,
        "i": 2.5,
    }
    assert [raw(rec, k) for k in "abcdefghi"] == [
        "2",
        "2",
        "3",
        "true",
        "2",
        SYS_ID,
        "7",
        "",
        "2.5",
    ]
    assert display(rec, "e") == "In Progress"
    assert display(rec, "f") == SYS_ID
    assert display(rec, "g") == "7"
    assert raw(rec, "missing") == ""


@pytest.mark.parametrize(
    "value",
    [["2"], {"name": "x"}, {"value": ["2"]}, {"value": {"nested": 1}}],
)
def test_readers_refuse_shapes_they_cannot_read(value: object) -> None:
    with pytest.raises(InvalidValue):
        raw({"state": value}, "state")
    with pytest.raises(InvalidValue):
        display({"state": value}, "state")


def test_reference_tells_sys_ids_from_names() -> None:
    assert reference({"r": SYS_ID}, "r") == (SYS_ID, None)
    assert reference({"r": "Zaaksysteem"}, "r") == (None, "Zaaksysteem")
    assert reference({"r": {"display_value": "Zaaksysteem", "value": SYS_ID}}, "r") == (
        SYS_ID,
        "Zaaksysteem",
    )
    assert reference({"r": {"link": "https://x", "value": SYS_ID}}, "r") == (SYS_ID, None)
    assert reference({"r": ""}, "r") == (None, None)


@pytest.mark.parametrize(
    "text",
    ["2026-03-02 10:00:00", "2026-03-02T10:00:00Z", "2026-03-02 10:00:00+01:00", "2026-03-02"],
)
def test_moment_fast_path_agrees_with_the_shared_parser(text: str) -> None:
    parsed = moment({"t": text}, "t")
    assert parsed == parse_datetime(text, field="t")
    assert parsed is not None
    assert stamp({"t": text}, "t", parsed, None) == parsed.isoformat()


def test_moment_reads_display_values_in_the_local_zone() -> None:
    amsterdam = ZoneInfo("Europe/Amsterdam")
    assert moment({"t": "2026-06-13 22:00:00"}, "t", amsterdam) == datetime(
        2026, 6, 13, 20, tzinfo=UTC
    )
    both = {"t": {"display_value": "2026-06-13 22:00:00", "value": "2026-06-13 20:00:00"}}
    assert moment(both, "t", amsterdam) == datetime(2026, 6, 13, 20, tzinfo=UTC)


@pytest.mark.parametrize("text", ["0001-01-01 00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_moment_out_of_range_is_invalid_value(text: str) -> None:
    with pytest.raises(InvalidValue):
        moment({"t": text}, "t")


def test_integers_and_flags() -> None:
    assert integer({"n": "1,204"}, "n") == 1204
    assert integer({"n": "1.204"}, "n") == 1204
    assert integer({"n": 7.0}, "n") == 7
    assert integer({}, "n") == 0
    with pytest.raises(InvalidValue):
        integer({"n": "12a"}, "n")
    assert flag({"f": True}, "f") is True
    assert flag({"f": {"display_value": "true", "value": True}}, "f") is True
    assert flag({"f": "false"}, "f") is False
    assert flag({}, "f") is False
    with pytest.raises(InvalidValue):
        flag({"f": "misschien"}, "f")


def test_labels_are_told_from_codes() -> None:
    assert is_label("In Progress")
    assert not is_label("2")
    assert not is_label("-5")
    assert not is_label("")
    assert not is_label({"display_value": "x", "value": "2"})


def test_records_of_shapes() -> None:
    one = {"sys_id": SYS_ID}
    assert records_of(one) == [one]
    assert records_of({"result": one}) == [one]
    assert records_of({"result": [one, one]}) == [one, one]
    with pytest.raises(ConnectorError):
        records_of({"result": [one, "x"]})
    with pytest.raises(UnsupportedPayload):
        records_of({"error": {"message": "No Record found"}, "status": "failure"})


def test_table_detection() -> None:
    assert table_of({"sys_class_name": "Incident"}) == "incident"
    assert table_of({"sys_class_name": "Change Request"}) == "change_request"
    assert table_of({"sys_class_name": "cmdb_ci_win_server"}) == "cmdb_ci_win_server"
    assert table_of({"sys_class_name": "Windows Server"}, "cmdb_ci_win_server") == (
        "cmdb_ci_win_server"
    )
    assert table_of({"number": "chg0001"}) == "change_request"
    with pytest.raises(UnsupportedPayload):
        table_of({"short_description": "x"})


# --- ids and lookups -----------------------------------------------------------------------


@settings(max_examples=200)
@given(st.text(min_size=1, max_size=60), st.sampled_from(list(EntityKind)), st.text(max_size=40))
def test_fast_ids_equal_the_envelope_ids(record_id: str, kind: EntityKind, body: str) -> None:
    ids = Shared(_ctx()).ids
    assert ids.hub(kind, record_id) == hub_id("kpn", kind, record_id)
    assert ids.part("h", "comments", record_id, body) == derived_id(
        "h", "comments", record_id, body
    )


def test_ids_fall_back_when_the_envelope_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    def other_hub_id(supplier: str, kind: EntityKind, record_id: str) -> str:
        return f"{supplier}/{kind.value}/{record_id}"

    monkeypatch.setattr(_common, "hub_id", other_hub_id)
    ids = Shared(_ctx()).ids
    assert ids.hub(EntityKind.CI, "x") == "kpn/ci/x"


def test_lookup_memo_matches_the_value_map_and_stays_bounded() -> None:
    lookup = Lookup.of("status", INCIDENT_STATE, IncidentStatus, {})
    assert lookup.get("  In   PROGRESS ") is IncidentStatus.IN_PROGRESS
    assert lookup.get("nope") is None
    assert lookup.get("nope", IncidentStatus.NEW) is IncidentStatus.NEW
    with pytest.raises(InvalidValue):
        lookup("nope", field="state")
    for n in range(3000):
        lookup.get(" " * (n % 50) + "2" + " " * (n // 50))
    assert len(lookup._memo) <= 1024


# --- translation rules ---------------------------------------------------------------------


def test_same_event_same_key_newer_update_new_key() -> None:
    first = _translate(_incident())[0]
    again = _translate(_incident())[0]
    newer = _translate(_incident(sys_mod_count="4", sys_updated_on="2026-03-02 10:05:00"))[0]
    assert first.native_event_key == again.native_event_key
    assert first.native_event_key != newer.native_event_key
    both = _translate(
        _incident(
            sys_updated_on={"display_value": "2026-03-02 11:00:00", "value": "2026-03-02 10:00:00"}
        )
    )[0]
    assert both.native_event_key == first.native_event_key  # display_value=all, same event


def test_display_form_times_follow_the_supplier_timezone() -> None:
    display_form = _incident(state="In Progress", sys_updated_on="2026-03-02 11:00:00")
    amsterdam = _only(_translate(display_form))
    utc = _only(_translate(display_form, timezone=ZoneInfo("UTC")))
    assert amsterdam.updated_at == datetime(2026, 3, 2, 10, tzinfo=UTC)
    assert utc.updated_at == datetime(2026, 3, 2, 11, tzinfo=UTC)


def test_echo_detection() -> None:
    marked = "[schakel] Reactie van FB"
    by_account = _only(_translate(_incident(sys_updated_by="Schakel")))
    assert by_account.origin.by_schakel  # accounts compare case-insensitively
    by_marker = _only(_translate(_incident(sys_updated_by="svc.ebonding", comments=marked)))
    assert by_marker.origin.by_schakel
    assert by_marker.comments[0].by_schakel
    older = (
        "2026-03-02 09:00:00 - Schakel (Additional comments)\n" + marked + "\n\n"
    )  # 08:00Z, before the update at 10:00Z: someone else changed the record since
    not_echo = _only(_translate(_incident(sys_updated_by="svc.ebonding", comments=older)))
    assert not not_echo.origin.by_schakel
    assert not_echo.comments[0].by_schakel
    custom = _only(
        _translate(_incident(sys_updated_by="svc-hub"), schakel_accounts=frozenset({"SVC-HUB"}))
    )
    assert custom.origin.by_schakel


def test_long_texts_are_clipped_to_the_model_limits() -> None:
    entity = _only(_translate(_incident(description="x" * 250_000, close_notes="y")))
    assert isinstance(entity, Incident)
    assert len(entity.description) == 200_000
    assert entity.description.endswith("…")


def test_one_bad_record_fails_the_whole_response() -> None:
    with pytest.raises(InvalidValue):
        _translate({"result": [_incident(), _incident(state="42")]})


def test_headers_may_be_text() -> None:
    record = InboundRecord(
        value=orjson.dumps({k: v for k, v in _ci().items() if k != "sys_class_name"}),
        headers={"schakel-table": "cmdb_ci_appl", "schakel-operation": "delete"},  # type: ignore[dict-item]
    )
    (translation,) = ServiceNowTranslator(_ctx()).translate(record)
    assert translation.action == "deleted"


def test_value_map_overrides() -> None:
    maps = {
        "change_status": {"-6": "new"},
        "ci_relation_type": {SYS_ID: "Depends on::Used by"},
        "ci_status": {"9": "retired"},
    }
    change = _only(
        _translate(
            {
                "sys_id": SYS_ID,
                "number": "CHG0000001",
                "type": "normal",
                "state": "-6",
                "sys_updated_on": "2026-03-02 10:00:00",
            },
            value_maps=maps,
        )
    )
    assert change.status is ChangeStatus.NEW
    relation = _only(
        _translate(
            {
                "sys_id": "f" * 32,
                "sys_class_name": "cmdb_rel_ci",
                "parent": "a" * 32,
                "child": "b" * 32,
                "type": {"link": "https://x/cmdb_rel_type", "value": SYS_ID},
                "sys_updated_on": "2026-03-02 10:00:00",
            },
            value_maps=maps,
        )
    )
    assert [r.kind for r in relation.relations] == ["depends_on", "used_by"]
    retired = _only(_translate(_ci(operational_status="9"), value_maps=maps))
    assert retired.status is CiStatus.RETIRED


def test_ci_routing_fields_are_configurable() -> None:
    options = {
        "ci_field_gemeenten": "x_gm",
        "ci_field_gemma": "x_gemma",
        "ci_field_fb_team": "x_fb",
    }
    payload = _ci(x_gm="GM0642, gm0505", x_gemma="Burgerzakencomponent", x_fb="fb-burgerzaken")
    entity = _only(_translate(payload, options=options))
    assert isinstance(entity, ConfigurationItem)
    assert entity.gemeenten == ("GM0505", "GM0642")
    assert entity.gemma_component == "Burgerzakencomponent"
    assert entity.fb_team == "fb-burgerzaken"
    default_fields = _only(_translate(payload))
    assert default_fields.gemeenten == ("GM0505",)


def test_relation_events_have_their_own_hub_id_and_version() -> None:
    parent = _only(_translate(_ci(sys_mod_count="40")))
    relation = _only(
        _translate(
            {
                "sys_id": "e" * 32,
                "sys_class_name": "cmdb_rel_ci",
                "parent": SYS_ID,
                "child": "b" * 32,
                "type": "Runs on::Runs",
                "sys_updated_on": "2026-03-02 10:00:00",
                "sys_mod_count": "0",
            }
        )
    )
    assert relation.hub_id != parent.hub_id
    assert relation.relations[1].target_record_id == parent.supplier_ref.record_id


def test_deletion_version_is_newer_than_the_last_update() -> None:
    update = _translate(_ci())[0]
    deletion = _translate(_ci(operation="delete"))[0]
    assert deletion.action == "deleted"
    assert deletion.entity.version == update.entity.version + 1
    assert deletion.native_event_key != update.native_event_key


def test_missing_fields_name_the_field() -> None:
    with pytest.raises(MissingField) as caught:
        _translate(_incident(sys_id=" "))
    assert caught.value.field == "sys_id"


# --- robustness ----------------------------------------------------------------------------

_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=20,
)
_FIELDS = [
    "sys_id",
    "sys_class_name",
    "number",
    "state",
    "incident_state",
    "impact",
    "urgency",
    "priority",
    "sys_updated_on",
    "opened_at",
    "sys_mod_count",
    "reopen_count",
    "comments",
    "work_notes",
    "cmdb_ci",
    "type",
    "risk",
    "on_hold",
    "operational_status",
    "install_status",
    "u_gemeenten",
    "parent",
    "child",
    "operation",
    "hold_reason",
    "close_code",
]
_TRANSLATOR = ServiceNowTranslator(_ctx())


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=200) | _JSON.map(orjson.dumps))
def test_arbitrary_input_raises_only_connector_errors(value: bytes) -> None:
    with contextlib.suppress(ConnectorError):
        _TRANSLATOR.translate(InboundRecord(value=value))


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(
        [
            _incident(),
            _ci(),
            {**_incident(), "sys_class_name": "change_request", "type": "normal", "state": "-5"},
        ]
    ),
    st.dictionaries(
        st.sampled_from(_FIELDS),
        _JSON
        | st.sampled_from(
            ["", "1", "-2", "3.0", "²", "1,204", "2026-02-30 10:00:00", "GM0505", "In Progress"]
        ),
        max_size=6,
    ),
    st.booleans(),
)
def test_mutated_records_raise_only_connector_errors(
    base: dict[str, Any], changes: dict[str, Any], wrap: bool
) -> None:
    payload: object = {**base, **changes}
    if wrap:
        payload = {"result": [payload]}
    with contextlib.suppress(ConnectorError):
        _TRANSLATOR.translate(InboundRecord(value=orjson.dumps(payload)))


# --- demo traffic ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "generator",
    [
        servicenow_incident,
        gen_servicenow.servicenow_change,
        gen_servicenow.servicenow_ci,
        gen_servicenow.servicenow_ci_relation,
        gen_servicenow.servicenow_mixed,
    ],
)
def test_demo_traffic_translates_and_is_deterministic(generator: Any) -> None:
    first = [generator(random.Random(5), n, NOW) for n in range(200)]
    again = [generator(random.Random(5), n, NOW) for n in range(200)]
    assert first == again
    for topic, key, value in first:
        assert topic == "schakel.inbound.kpn"
        assert key
        assert _TRANSLATOR.translate(InboundRecord(value=value, key=key, topic=topic))
