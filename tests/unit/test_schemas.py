"""The common model: JSON Schema drift, identifiers, vocabularies, envelope rules."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from schemas import (
    CloudEvent,
    ConfigurationItem,
    EntityKind,
    Impact,
    Incident,
    IncidentStatus,
    Priority,
    SupplierRef,
    SupplierSystem,
    Urgency,
    event_id,
    hub_id,
    priority_from,
    source_urn,
)
from schemas.envelope import EVENT_TYPES, encode_event
from schemas.jsonschema import JSON_DIR, render_all
from schemas.topics import (
    CIS,
    GEMEENTE_PATTERN,
    INBOUND_PATTERN,
    OUTBOUND_PATTERN,
    gemeente_of_topic,
    gemeente_topic,
    inbound_topic,
    outbound_topic,
    supplier_of_inbound,
    supplier_of_outbound,
)
from schemas.wire import encode_normalised


def test_json_schemas_match_the_models() -> None:
    rendered = render_all()
    on_disk = {p.name: p.read_bytes() for p in JSON_DIR.glob("*.json")}
    assert set(on_disk) == set(rendered), "run 'make schemas' to regenerate schemas/json/"
    drifted = [name for name, body in rendered.items() if on_disk[name] != body]
    assert not drifted, f"schemas/json/ drifted from the models: {drifted}; run 'make schemas'"


def test_ids_are_deterministic_and_distinct() -> None:
    assert hub_id("kpn", EntityKind.INCIDENT, "abc") == hub_id("kpn", EntityKind.INCIDENT, "abc")
    assert hub_id("kpn", EntityKind.INCIDENT, "abc") != hub_id("kpn", EntityKind.CHANGE, "abc")
    assert hub_id("kpn", EntityKind.INCIDENT, "abc") != hub_id(
        "centric", EntityKind.INCIDENT, "abc"
    )
    assert event_id("kpn", "e1") == event_id("kpn", "e1") != event_id("kpn", "e2")


@pytest.mark.parametrize(
    ("impact", "urgency", "expected"),
    [
        (Impact.HIGH, Urgency.HIGH, Priority.P1),
        (Impact.HIGH, Urgency.MEDIUM, Priority.P2),
        (Impact.MEDIUM, Urgency.MEDIUM, Priority.P3),
        (Impact.MEDIUM, Urgency.LOW, Priority.P4),
        (Impact.LOW, Urgency.LOW, Priority.P5),
    ],
)
def test_priority_matrix(impact: Impact, urgency: Urgency, expected: Priority) -> None:
    assert priority_from(impact, urgency) is expected


def test_incident_status_speaks_tmf621() -> None:
    assert IncidentStatus.IN_PROGRESS.tmf621 == "inProgress"
    assert IncidentStatus.CANCELLED.tmf621 == "cancelled"
    assert {s.tmf621 for s in IncidentStatus} <= {
        "acknowledged",
        "inProgress",
        "held",
        "pending",
        "resolved",
        "closed",
        "cancelled",
    }


def _incident(**changes: object) -> Incident:
    values: dict[str, object] = {
        "hub_id": "h",
        "supplier_ref": SupplierRef(
            supplier="kpn", system=SupplierSystem.SERVICENOW, record_id="r"
        ),
        "title": "t",
        "status": IncidentStatus.NEW,
        "priority": Priority.P3,
        "updated_at": datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=1))),
        "version": 0,
    }
    values.update(changes)
    return Incident.model_validate(values)


def test_datetimes_are_utc_and_naive_ones_refused() -> None:
    assert _incident().updated_at == datetime(2026, 1, 1, 11, tzinfo=UTC)
    assert _incident().updated_at.utcoffset() == timedelta(0)
    with pytest.raises(ValidationError):
        _incident(updated_at=datetime(2026, 1, 1, 12))


def test_envelope_follows_nl_gov_profile() -> None:
    event = CloudEvent[Incident](
        id=event_id("kpn", "x"),
        source=source_urn("90000011", "ServiceNow Prod"),
        type=EVENT_TYPES[(EntityKind.INCIDENT, "created")],
        subject="h",
        time=datetime(2026, 1, 1, tzinfo=UTC),
        dataschema="urn:nld:schakel:schema:incident:v1",
        sequence="0",
        supplierid="kpn",
        data=_incident(),
    )
    dumped = event.model_dump(mode="json")
    assert event.source == "urn:nld:kvk:90000011:systeem:servicenow-prod"
    assert all(len(name) <= 20 and name.isalnum() and name.islower() for name in dumped)
    assert event.type.startswith("nl.") and event.type.endswith(".v1")
    with pytest.raises(ValidationError):
        CloudEvent[Incident].model_validate({**dumped, "source": "https://example.org/data/1"})


@given(st.text(min_size=1, max_size=40).filter(lambda s: s.strip()))
def test_source_urn_is_always_valid(name: str) -> None:
    urn = source_urn("12345678", name)
    assert urn.startswith("urn:nld:kvk:12345678:systeem:")


@given(st.text(max_size=80))
def test_fast_uuid5_equals_the_standard_library(name: str) -> None:
    import uuid

    from schemas.envelope import _NAMESPACE, _uuid5

    assert _uuid5(name) == str(uuid.uuid5(_NAMESPACE, name))


@given(
    ids=st.tuples(st.text(min_size=1, max_size=40), st.text(max_size=40)),
    when=st.datetimes(timezones=st.just(UTC)),
    sequence=st.integers(min_value=0, max_value=2**62),
    supplier=st.text(max_size=20),
)
def test_envelope_writer_is_byte_for_byte_the_model(
    ids: tuple[str, str], when: datetime, sequence: int, supplier: str
) -> None:
    """The hot-path writer, for any ids, times (microseconds too) and supplier ids."""
    event_id_, subject = ids
    attributes = {
        "id": event_id_,
        "source": "urn:nld:kvk:90000011:systeem:servicenow",
        "type": EVENT_TYPES[(EntityKind.INCIDENT, "updated")],
        "subject": subject,
        "time": when,
        "dataschema": "urn:nld:schakel:schema:incident:v1",
        "supplierid": supplier,
    }
    data = _incident(title='Stroomstoring "kelder" \\ \u00e9\u00e8 \U0001f525')
    written = encode_event(**attributes, sequence=sequence, data=data)  # type: ignore[arg-type]
    model = CloudEvent[Incident](**attributes, sequence=str(sequence), data=data)  # type: ignore[arg-type]
    assert written == model.model_dump_json().encode()


@given(st.from_regex(r"[a-z0-9][a-z0-9-]{0,20}", fullmatch=True))
def test_supplier_topic_names_read_back(supplier: str) -> None:
    inbound, outbound = inbound_topic(supplier), outbound_topic(supplier)
    assert supplier_of_inbound(inbound) == supplier
    assert supplier_of_outbound(outbound) == supplier
    assert supplier_of_inbound(outbound) is None and supplier_of_outbound(inbound) is None
    assert re.fullmatch(INBOUND_PATTERN, inbound) and not re.fullmatch(INBOUND_PATTERN, outbound)
    assert re.fullmatch(OUTBOUND_PATTERN, outbound)
    assert gemeente_of_topic(inbound) is None


@given(st.from_regex(r"GM[0-9]{4}", fullmatch=True))
def test_gemeente_topic_names_read_back(code: str) -> None:
    topic = gemeente_topic(code)
    assert gemeente_of_topic(topic) == code
    assert re.fullmatch(GEMEENTE_PATTERN, topic)
    assert supplier_of_inbound(topic) is None and supplier_of_outbound(topic) is None


def test_normalised_records_carry_the_headers_consumers_rely_on() -> None:
    ci = ConfigurationItem.model_validate(
        {
            "hub_id": hub_id("kpn", EntityKind.CI, "srv-1"),
            "supplier_ref": {"supplier": "kpn", "system": "servicenow", "record_id": "srv-1"},
            "name": "srv-1",
            "ci_class": "cmdb_ci_server",
            "updated_at": datetime(2026, 3, 1, tzinfo=UTC),
            "version": 42,
        }
    )
    ev_id = event_id("kpn", "srv-1@42")
    source = source_urn("90000011", "servicenow-prod")
    record = encode_normalised(
        ci, kind=EntityKind.CI, action="updated", event_id=ev_id, source=source, time=ci.updated_at
    )
    assert record.topic == CIS and record.key == ci.hub_id.encode()
    assert dict(record.headers) == {
        "content-type": b"application/cloudevents+json; charset=utf-8",
        "schakel-event-id": ev_id.encode(),
        "schakel-hub-id": ci.hub_id.encode(),
        "schakel-version": b"42",
    }
    event = CloudEvent[ConfigurationItem].model_validate_json(record.value)
    assert (event.id, event.subject, event.sequence) == (ev_id, ci.hub_id, "42")
    assert event.type == "nl.itsm.ci.updated.v1" and event.data == ci
