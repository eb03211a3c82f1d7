"""Edge logic of the Jira connector that the contract fixtures cannot show.

Event identity (retries, headers), per-supplier options and value-map overrides, echo
detection, ADF reading, limits, and robustness against arbitrary input.
"""

from __future__ import annotations

import copy
import random
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors import ConnectorError, InboundRecord, InvalidValue, SupplierContext
from connectors.jira import JiraTranslator
from connectors.jira._native import adf_text, header, label
from schemas import (
    ChangeRisk,
    ChangeType,
    EntityKind,
    HoldReason,
    IncidentStatus,
    Priority,
    SupplierSystem,
    Visibility,
)
from schemas.envelope import source_urn
from schemas.topics import inbound_topic
from services.demo.gen_jira import jira_change, jira_incident

UNEXPECTED = "unexpected shape in Jira payload"


def ctx(**overrides: Any) -> SupplierContext:
    values: dict[str, Any] = {
        "supplier": "zaakplatform",
        "system": SupplierSystem.JIRA,
        "source": source_urn("90000033", "jira-servicedesk"),
    }
    values.update(overrides)
    return SupplierContext(**values)


def issue(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "issuetype": {"id": "10004", "name": "Incident"},
        "status": {
            "id": "3",
            "name": "Work in progress",
            "statusCategory": {"key": "indeterminate"},
        },
        "priority": {"id": "3", "name": "Medium"},
        "summary": "Zaaksysteem traag",
        "description": "Traag sinds 09:00.",
        "created": "2025-01-14T09:00:00.000+0100",
        "updated": "2025-01-14T10:00:00.000+0100",
    }
    base.update(fields)
    return {"id": "10021", "key": "ZP-22", "fields": base}


def event(kind: str = "jira:issue_updated", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "timestamp": 1736845200500,
        "webhookEvent": kind,
        "user": {"accountId": "712020:abc", "displayName": "Ruben Verhoeven"},
        "issue": issue(),
    }
    body.update(extra)
    return body


def record(payload: Any, headers: dict[str, bytes] | None = None) -> InboundRecord:
    return InboundRecord(value=orjson.dumps(payload), headers=headers or {})


def one(
    payload: Any, translator: JiraTranslator | None = None, headers: dict[str, bytes] | None = None
) -> Any:
    (translation,) = (translator or JiraTranslator(ctx())).translate(record(payload, headers))
    return translation


# -- event identity ------------------------------------------------------------------------


def test_webhook_identifier_makes_retries_the_same_event() -> None:
    first = one(event(), headers={"X-Atlassian-Webhook-Identifier": b"abc-1"})
    retry = one(
        event(),
        headers={"x-atlassian-webhook-identifier": b"abc-1", "X-Atlassian-Webhook-Retry": b"1"},
    )
    other = one(event(), headers={"X-Atlassian-Webhook-Identifier": b"abc-2"})
    assert first.native_event_key == retry.native_event_key
    assert first.native_event_key != other.native_event_key


def test_header_lookup_ignores_case() -> None:
    assert header({"X-ATLASSIAN-WEBHOOK-IDENTIFIER": b" id "}, "X-Atlassian-Webhook-Identifier")
    assert header({}, "X-Atlassian-Webhook-Identifier") == ""


def test_fallback_key_is_stable_and_tells_events_apart() -> None:
    base = one(event()).native_event_key
    assert one(event()).native_event_key == base
    assert one(event(timestamp=1736845200501)).native_event_key != base
    assert one(event("jira:issue_created")).native_event_key != base
    with_changelog = one(event(changelog={"id": "10131", "items": []})).native_event_key
    assert "changelog:10131" in with_changelog
    comment = {"id": "77", "body": "x", "created": "2025-01-14T10:00:00.000+0100"}
    a = one(event("comment_created", comment=comment)).native_event_key
    b = one(event("comment_created", comment={**comment, "id": "78"})).native_event_key
    assert a != b


def test_snapshot_key_follows_the_update() -> None:
    translator = JiraTranslator(ctx())
    old = one(issue(), translator)
    new = one(issue(updated="2025-01-14T10:00:01.000+0100"), translator)
    assert old.native_event_key != new.native_event_key
    assert new.entity.version == old.entity.version + 1000


def test_version_is_updated_in_epoch_ms_and_deletion_is_newest() -> None:
    updated = one(event())
    assert updated.entity.version == 1736845200000  # 2025-01-14T09:00:00Z
    assert updated.recorded_at == datetime(2025, 1, 14, 9, 0, 0, 500_000, tzinfo=UTC)
    deleted = one(event("jira:issue_deleted", timestamp=1736900000000))
    assert deleted.action == "deleted"
    assert deleted.entity.version == 1736900000000 > updated.entity.version
    assert deleted.entity.status is IncidentStatus.CANCELLED
    late_clock = one(event("jira:issue_deleted", timestamp=1700000000000))
    assert late_clock.entity.version == updated.entity.version


# -- options and value maps ------------------------------------------------------------------


def test_value_map_overrides_per_supplier() -> None:
    translator = JiraTranslator(
        ctx(
            value_maps={
                "issue_type": {"Verstoring Zaaksysteem": "incident", "RFC": "emergency"},
                "status": {"Waiting for support": "on_hold", "Bij leverancier": "on_hold"},
                "hold_reason": {"Bij leverancier": "awaiting_supplier"},
                "priority": {"Spoed": "P1"},
                "reopened_status": {"Opnieuw geopend": "true"},
            }
        )
    )
    waiting = one(
        event(
            issue=issue(
                issuetype={"name": "Verstoring Zaaksysteem"},
                status={"name": "Waiting for support", "statusCategory": {"key": "indeterminate"}},
                priority={"name": "Spoed"},
            )
        ),
        translator,
    )
    assert waiting.kind is EntityKind.INCIDENT
    assert waiting.entity.status is IncidentStatus.ON_HOLD
    assert waiting.entity.hold_reason is HoldReason.OTHER
    assert waiting.entity.priority is Priority.P1
    vendor = one(
        event(issue=issue(status={"name": "Bij leverancier", "statusCategory": {"key": "new"}})),
        translator,
    )
    assert vendor.entity.hold_reason is HoldReason.AWAITING_SUPPLIER
    rfc = one(event(issue=issue(issuetype={"name": "RFC"})), translator)
    assert rfc.kind is EntityKind.CHANGE
    assert rfc.entity.change_type is ChangeType.EMERGENCY
    reopened = one(
        event(issue=issue(status={"name": "Opnieuw geopend", "statusCategory": {"key": "new"}})),
        translator,
    )
    assert reopened.entity.reopened is True


def test_bad_value_map_override_fails_at_start() -> None:
    with pytest.raises(ValueError, match="issue_type"):
        JiraTranslator(ctx(value_maps={"issue_type": {"Taak": "task"}}))


def test_custom_fields_from_options() -> None:
    translator = JiraTranslator(
        ctx(
            options={
                "request_type_field": "customfield_10200",
                "ci_field": "customfield_10300",
                "group_field": "customfield_10400",
                "change_type_field": "customfield_10500",
                "risk_field": "customfield_10600",
                "planned_start_field": "customfield_10700",
                "planned_end_field": "customfield_10701",
                "implementation_plan_field": "customfield_10800",
                "backout_plan_field": "customfield_10801",
            }
        )
    )
    fields = {
        "issuetype": {"name": "Change"},
        "status": {"name": "Awaiting implementation", "statusCategory": {"key": "indeterminate"}},
        "customfield_10200": {"requestType": {"name": "Wijziging aanvragen"}},
        "customfield_10300": [{"workspaceId": "w1", "id": "w1:88", "objectId": "88"}],
        "customfield_10400": {"name": "Applicatiebeheer Zaken"},
        "customfield_10500": {"value": "Emergency", "id": "10050"},
        "customfield_10600": {"value": "High"},
        "customfield_10700": "2025-02-01T20:00:00.000+0100",
        "customfield_10701": "2025-02-01T22:00:00.000+0100",
        "customfield_10800": {
            "type": "doc",
            "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Deploy"}]}],
        },
        "customfield_10801": "Terugzetten back-up",
    }
    change = one(event(issue=issue(**fields)), translator).entity
    assert change.change_type is ChangeType.EMERGENCY
    assert change.risk is ChangeRisk.HIGH
    assert change.category == "Wijziging aanvragen"
    assert change.ci is not None and change.ci.record_id == "w1:88"
    assert change.assignment_group == "Applicatiebeheer Zaken"
    assert change.planned_start == datetime(2025, 2, 1, 19, 0, tzinfo=UTC)
    assert change.planned_end == datetime(2025, 2, 1, 21, 0, tzinfo=UTC)
    assert change.implementation_plan == "Deploy"
    assert change.backout_plan == "Terugzetten back-up"


def test_default_priority_option() -> None:
    payload = event(issue=issue(priority=None))
    unknown = one(payload).entity
    assert unknown.priority is None
    assert unknown.priority_given is False
    translator = JiraTranslator(ctx(options={"default_priority": "P3"}))
    defaulted = one(payload, translator).entity
    assert defaulted.priority is Priority.P3
    assert defaulted.priority_given is False
    assert one(event(issue=issue())).entity.priority_given is True


# -- comments and echoes ---------------------------------------------------------------------


def test_comment_visibility_variants() -> None:
    def visibility(**comment: Any) -> Visibility:
        body = {"id": "1", "body": "x", "created": "2025-01-14T10:00:00.000+0100", **comment}
        found: Visibility = (
            one(event("comment_created", comment=body)).entity.comments[0].visibility
        )
        return found

    assert visibility() is Visibility.PUBLIC
    assert visibility(jsdPublic=True) is Visibility.PUBLIC
    assert visibility(jsdPublic=False) is Visibility.INTERNAL
    assert visibility(jsdPublic="false") is Visibility.INTERNAL
    assert visibility(visibility={"type": "role", "value": "Administrators"}) is Visibility.INTERNAL


def test_echo_by_display_name_and_comment_author() -> None:
    translator = JiraTranslator(ctx(schakel_accounts=frozenset({"schakel integratie"})))
    by_name = one(event(user={"accountId": "712020:x", "displayName": "Schakel Integratie"}))
    assert not by_name.entity.origin.by_schakel  # not in the default accounts
    assert one(
        event(user={"accountId": "712020:x", "displayName": "Schakel Integratie"}), translator
    ).entity.origin.by_schakel
    comment = {
        "id": "5",
        "body": "Graag uw reactie.",
        "author": {"accountId": "schakel", "displayName": "Schakel"},
        "created": "2025-01-14T10:00:00.000+0100",
    }
    translated = one(event("comment_created", comment=comment)).entity
    assert translated.origin.by_schakel
    assert translated.comments[0].by_schakel


def test_human_edit_of_a_schakel_comment_is_not_an_echo() -> None:
    comment = {
        "id": "5",
        "body": "Bericht van de gemeente zonder marker",
        "author": {"accountId": "schakel", "displayName": "Schakel"},
        "updateAuthor": {"accountId": "712020:abc", "displayName": "Ruben Verhoeven"},
        "created": "2025-01-14T10:00:00.000+0100",
    }
    translated = one(event("comment_updated", comment=comment)).entity
    assert translated.origin == translated.origin.model_copy(
        update={"by_schakel": False, "actor": "Ruben Verhoeven"}
    )
    assert translated.comments[0].by_schakel  # the comment itself is still Schakel's


def test_no_contact_data_is_carried() -> None:
    reporter = {"accountId": "qm:1", "displayName": "Joëlle", "emailAddress": "j@dordrecht.nl"}
    dumped = one(event(issue=issue(reporter=reporter))).entity.model_dump_json()
    assert "dordrecht.nl" not in dumped


# -- text ------------------------------------------------------------------------------------


def test_adf_deeply_nested_is_read_without_recursion() -> None:
    node: dict[str, Any] = {"type": "text", "text": "diep"}
    for _ in range(50_000):
        node = {"type": "blockquote", "content": [node]}
    assert adf_text({"type": "doc", "content": [node]}) == "diep"


def test_adf_ignores_unknown_and_malformed_nodes() -> None:
    document = {
        "type": "doc",
        "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": 5}, "x", None]},
            {"type": "mediaSingle", "content": [{"type": "media", "attrs": {"id": "1"}}]},
            {"type": "paragraph", "content": {"not": "a list"}},
            {"type": "rule"},
            {"type": "paragraph", "content": [{"type": "status", "attrs": {"text": "GEREED"}}]},
        ],
    }
    assert adf_text(document) == "GEREED"


def test_label_reads_objects_lists_and_strings() -> None:
    assert label([None, [{"name": "x"}], {"value": " Hoog "}]) == "Hoog"
    assert label({"displayName": "Ruben"}) == "Ruben"
    assert label(" Zaaksysteem ") == "Zaaksysteem"
    assert label(12) == ""


def test_long_text_is_clipped_to_the_model_limits() -> None:
    translated = one(event(issue=issue(summary="S" * 1000, description="D" * 250_000))).entity
    assert len(translated.title) == 400 and translated.title.endswith("…")
    assert len(translated.description) == 200_000 and translated.description.endswith("…")


def test_datetime_out_of_range_is_an_invalid_value() -> None:
    with pytest.raises(InvalidValue):
        one(event(issue=issue(created="0001-01-01T00:00:00.000+0100")))
    with pytest.raises(InvalidValue):
        one(event(timestamp=10**18))


# -- demo generator --------------------------------------------------------------------------


def test_generator_payloads_translate() -> None:
    rng = random.Random(3)
    now = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    translator = JiraTranslator(ctx())
    kinds = set()
    for serial in range(300):
        generator = jira_incident if serial % 2 == 0 else jira_change
        topic, key, value = generator(rng, serial, now)
        assert topic == inbound_topic("zaakplatform")
        (translation,) = translator.translate(InboundRecord(value=value, key=key))
        assert translation.entity.supplier_ref.number == key.decode()
        kinds.add(translation.kind)
    assert kinds == {EntityKind.INCIDENT, EntityKind.CHANGE}


# -- robustness ------------------------------------------------------------------------------

_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=25,
)

_PATHS = [
    ("timestamp",),
    ("webhookEvent",),
    ("user",),
    ("comment",),
    ("changelog",),
    ("issue",),
    ("issue", "id"),
    ("issue", "key"),
    ("issue", "fields"),
    *[
        ("issue", "fields", name)
        for name in (
            "issuetype",
            "status",
            "priority",
            "summary",
            "description",
            "created",
            "updated",
            "resolution",
            "resolutiondate",
            "assignee",
            "components",
            "customfield_10010",
            "comment",
        )
    ],
]


def _assert_only_connector_errors(value: bytes) -> None:
    reason = ""
    try:
        _TRANSLATOR.translate(InboundRecord(value=value))
    except ConnectorError as exc:
        reason = exc.reason
    assert not reason.startswith(UNEXPECTED), reason


_TRANSLATOR = JiraTranslator(ctx())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=200))
def test_arbitrary_bytes_raise_only_connector_errors(value: bytes) -> None:
    _assert_only_connector_errors(value)


@settings(max_examples=300, deadline=None)
@given(_json)
def test_arbitrary_json_raises_only_connector_errors(document: Any) -> None:
    _assert_only_connector_errors(orjson.dumps(document))


@settings(max_examples=600, deadline=None)
@given(
    st.sampled_from(["jira:issue_updated", "jira:issue_deleted", "comment_created"]),
    st.lists(st.tuples(st.sampled_from(_PATHS), _json), min_size=1, max_size=4),
)
def test_mutated_webhooks_raise_only_connector_errors(
    kind: str, mutations: list[tuple[tuple[str, ...], Any]]
) -> None:
    payload = copy.deepcopy(
        event(kind, comment={"id": "1", "body": "x", "created": "2025-01-14T10:00:00.000+0100"})
    )
    for path, value in mutations:
        target: Any = payload
        for part in path[:-1]:
            if not isinstance(target, dict):
                break
            target = target.get(part)
        if isinstance(target, dict):
            target[path[-1]] = value
    _assert_only_connector_errors(orjson.dumps(payload))
