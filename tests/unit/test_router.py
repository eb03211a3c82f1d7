"""services.router: the CMDB table, rule matching, decisions, explanations, routed events."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from schemas import CloudEvent, EntityKind, Priority, RoutedTicket, derived_id
from schemas.envelope import encode_event
from schemas.topics import CHANGES, INCIDENTS, TRIAGE, gemeente_topic
from services.cmdb import MAX_AFFECTED, MAX_HOPS, CiTable, CmdbFeed
from services.config import SchakelConfig
from services.messaging import DLQ_ERROR_CLASS, DLQ_SERVICE, DLQ_TOPIC
from services.router import (
    Destination,
    Router,
    UnreadableEvent,
    decode_event,
    routed_event_id,
)
from services.router.rules import CompiledRule, TicketFacts, fold_text, keyword_in
from tests.fakes import FakeRecord
from tests.router_kit import (
    DRECHTSTEDEN,
    change,
    ci,
    ci_record,
    incident,
    relation_record,
    ticket_event,
    ticket_record,
)

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
NAMES = {
    "GM0482": "Alblasserdam",
    "GM0505": "Dordrecht",
    "GM0523": "Hardinxveld-Giessendam",
    "GM0531": "Hendrik-Ido-Ambacht",
    "GM0590": "Papendrecht",
    "GM0610": "Sliedrecht",
    "GM0642": "Zwijndrecht",
}


def with_rules(base: SchakelConfig, rules: list[dict[str, Any]]) -> SchakelConfig:
    document = base.model_dump(mode="json")
    document["routing"] = {"rules": rules, "triage_team": "regie-triage"}
    return SchakelConfig.model_validate(document)


def decide(router: Router, ticket: Any) -> dict[str, Destination]:
    kind = (
        EntityKind.INCIDENT if ticket.hub_id and hasattr(ticket, "urgency") else EntityKind.CHANGE
    )
    destinations = router.decide(ticket, kind=kind, event_id="ev-1", now=NOW)
    return {d.name: d for d in destinations}


def teams(destination: Destination) -> list[tuple[str | None, str]]:
    return [(r.gemeente, r.team) for r in destination.decision.recipients]


# --- the CMDB table -------------------------------------------------------------------


def test_resolve_by_record_id_then_name_and_never_by_guess() -> None:
    table = CiTable(
        [
            ci("zs-1", "Zaaksysteem", gemeenten=["GM0505"]),
            ci("zs-1", "Zaaksysteem (Centric)", supplier="centric"),
            ci("brp-1", "BRP-suite", supplier="centric"),
            ci("dup-a", "Fileserver"),
            ci("dup-b", "Fileserver"),
        ]
    )
    found = table.resolve("kpn", incident(ci_record="zs-1").ci)
    assert found is not None and found.supplier_ref.supplier == "kpn"
    found = table.resolve("centric", incident(ci_record="zs-1").ci)
    assert found is not None and found.supplier_ref.supplier == "centric"
    # record id known at one other supplier only: that one
    found = table.resolve("zaakplatform", incident(ci_record="brp-1").ci)
    assert found is not None and found.name == "BRP-suite"
    # name, case-insensitive, as fallback
    found = table.resolve("kpn", incident(ci_record="nope", ci_name="zAAKSYSTEEM").ci)
    assert found is not None and found.hub_id == ci("zs-1").hub_id
    # ambiguous: two CIs of kpn named Fileserver -> nothing, not a guess
    assert table.resolve("kpn", incident(ci_name="Fileserver").ci) is None
    # record id at two suppliers, asked by a third: ambiguous
    assert table.resolve("werkplekdienst", incident(ci_record="zs-1").ci) is None
    assert table.resolve("kpn", None) is None


def test_updates_replace_and_deletions_leave_the_table() -> None:
    table = CiTable([ci("a", "Oud", gemeenten=["GM0505"])])
    table.apply(ci("a", "Nieuw", gemeenten=["GM0642"], version=2))
    assert len(table) == 1
    assert table.resolve("kpn", incident(ci_name="Oud").ci) is None
    item = table.resolve("kpn", incident(ci_name="nieuw").ci)
    assert item is not None and item.gemeenten == ("GM0642",)
    version = table.version
    table.apply(ci("a", "Nieuw", deleted=True, version=3))
    assert len(table) == 0 and table.version > version
    assert table.resolve("kpn", incident(ci_record="a").ci) is None
    table.apply(ci("b"))
    table.remove(ci("b").hub_id)
    assert len(table) == 0


def test_dependents_follow_relations_in_both_forms_up_to_two_hops() -> None:
    table = CiTable(
        [
            ci("host", "ESX-01", ci_class="cmdb_ci_esx_server"),
            ci("vm", "VM-APP01", ci_class="cmdb_ci_vm", relations=[("hosted_on", "host")]),
            ci("app", "Zaaksysteem", gemeenten=["GM0505"], relations=[("runs_on", "vm")]),
            ci("portal", "Portaal", gemeenten=["GM0642"], relations=[("depends_on", "app")]),
            ci("db", "SQL-01", ci_class="cmdb_ci_db"),
            ci("brp", "BRP", gemeenten=["GM0482"]),
            # ServiceNow relation record: "BRP depends on SQL-01" (parent BRP, child SQL-01)
            relation_record("rel-1", "brp", "depends_on", "db", "used_by"),
            # a relation that says nothing about dependency
            ci("rack", "Rack 7", relations=[("contains", "host")]),
        ]
    )
    names = lambda item: {(a.ci.name, a.hops) for a in table.affected(item)}  # noqa: E731
    host = table.resolve("kpn", incident(ci_record="host").ci)
    assert host is not None
    assert names(host) == {("ESX-01", 0), ("VM-APP01", 1), ("Zaaksysteem", 2)}
    assert MAX_HOPS == 2  # the portal, three steps away, is not reached
    db = table.resolve("kpn", incident(ci_record="db").ci)
    assert db is not None and names(db) == {("SQL-01", 0), ("BRP", 1)}
    app = table.resolve("kpn", incident(ci_record="app").ci)
    assert app is not None
    # never towards what the CI itself depends on (the VM, the host)
    assert names(app) == {("Zaaksysteem", 0), ("Portaal", 1)}
    # a relation record is never a ticket's CI
    assert table.resolve("kpn", incident(ci_record="rel-1").ci) is None
    # deleting the relation record removes the dependency
    table.apply(relation_record("rel-1", "brp", "depends_on", "db", "used_by", deleted=True))
    assert names(db) == {("SQL-01", 0)}


def test_dependents_are_bounded() -> None:
    items = [ci("switch", "Core switch", ci_class="cmdb_ci_ip_switch")]
    items += [
        ci(f"app-{i}", gemeenten=["GM0505"], relations=[("uses", "switch")])
        for i in range(MAX_AFFECTED + 50)
    ]
    table = CiTable(items)
    switch = table.resolve("kpn", incident(ci_record="switch").ci)
    assert switch is not None
    assert len(table.affected(switch)) == MAX_AFFECTED


# --- rules ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keyword", "text", "hit"),
    [
        ("WOZ", "Aanslagen woz worden niet gegenereerd", True),
        ("WOZ", "WOZ-beschikking ontbreekt", True),
        ("woz", "(WOZ) waarde", True),
        ("belasting", "Belastingen: fout bij aanslag", True),
        ("belasting", "hondenbelasting wordt dubbel geheven", False),
        ("aanslag", "belastingaanslag", False),
        ("print", "sprint review", False),
        ("print", "printer_fout", True),
        ("balie printer", "de balie\n  printer hapert", True),
        ("balie printer", "balieprinter", False),
        ("storing", "", False),
    ],
)
def test_keywords_begin_a_word_case_insensitive(keyword: str, text: str, hit: bool) -> None:
    assert keyword_in(fold_text(keyword), fold_text(text)) is hit


def facts(**kw: Any) -> TicketFacts:
    base: dict[str, Any] = {
        "supplier": "kpn",
        "priority": "P3",
        "category": None,
        "ci_values": frozenset(),
        "gemma_component": None,
        "text": "",
    }
    base.update(kw)
    base["text"] = fold_text(base["text"])
    return TicketFacts(**base)


def rule(example_config: SchakelConfig, **match: Any) -> CompiledRule:
    config = with_rules(
        example_config,
        [
            {
                "id": "rule-x",
                "description": "test",
                "match": match,
                "recipients": [{"gemeente": "GM0505"}],
            }
        ],
    )
    return CompiledRule(config.routing.rules[0])


def test_match_fields_combine_with_and_values_with_or(example_config: SchakelConfig) -> None:
    r = rule(example_config, supplier=["kpn", "centric"], priority=["P1", "P2"])
    assert r.match(facts(priority="P2")) is not None
    assert r.match(facts(priority="P3")) is None
    assert r.match(facts(supplier="zaakplatform", priority="P1")) is None
    r = rule(example_config, category=["Datacenter"], gemma_component=["zaakregistratiecomponent"])
    hit = r.match(facts(category="datacenter", gemma_component="Zaakregistratiecomponent"))
    assert hit is not None
    assert hit.reasons == ("categorie 'datacenter'", "GEMMA-component Zaakregistratiecomponent")
    assert r.match(facts(category="Datacenter")) is None  # no GEMMA component: no match
    r = rule(example_config, ci=["Zaaksysteem Drechtsteden", "sys-123"])
    assert r.match(facts(ci_values=frozenset({"sys-123"}))) is not None
    assert r.match(facts(ci_values=frozenset({"zaaksysteem drechtsteden"}))) is not None
    assert r.match(facts(ci_values=frozenset({"zaaksysteem"}))) is None
    r = rule(example_config, keywords=["WOZ", "aanslag"], priority=["P3"])
    hit = r.match(facts(text="Aanslagen WOZ"))
    assert hit is not None and hit.keywords == ("WOZ", "aanslag")
    assert hit.reasons[-1] == "trefwoorden 'WOZ', 'aanslag' in titel of omschrijving"
    change_facts = facts(priority=None, text="WOZ")
    assert r.match(change_facts) is None  # a change without priority matches no priority


# --- decisions --------------------------------------------------------------------------


@pytest.fixture
def shared_cmdb() -> CiTable:
    return CiTable(
        [
            ci(
                "zs",
                "Zaaksysteem Drechtsteden",
                gemeenten=DRECHTSTEDEN,
                gemma="Zaakregistratiecomponent",
            ),
            ci(
                "afs",
                "Afsprakenplanner",
                gemeenten=["GM0505", "GM0523"],
                gemma="Afsprakenbeheercomponent",
            ),
            ci("fs", "DC1-FS01", gemeenten=["GM0642"], ci_class="cmdb_ci_win_server"),
            ci("srv", "DC1-APP01", ci_class="cmdb_ci_linux_server"),
            ci(
                "brp",
                "BRP-suite",
                gemeenten=["GM0505"],
                gemma="Burgerzakencomponent",
                fb_team="fb-zaken",
                relations=[("runs_on", "srv")],
            ),
            ci("gis", "GIS-viewer", gemeenten=["GM9999"]),
        ]
    )


def test_shared_ci_fans_out_one_event_per_gemeente_with_only_its_teams(
    example_config: SchakelConfig, shared_cmdb: CiTable
) -> None:
    router = Router(example_config, shared_cmdb)
    got = decide(router, incident(ci_record="zs", title="Zaken openen traag"))
    assert set(got) == set(DRECHTSTEDEN)
    for code, destination in got.items():
        assert destination.topic == gemeente_topic(code)
        assert destination.decision.rule_id == "zaaksysteem-gedeeld"
        assert destination.decision.basis == "rule"
        expected = "fb-algemeen" if code in ("GM0523", "GM0610") else "fb-zaken"
        assert teams(destination) == [(code, expected)]
        text = destination.decision.explanation
        assert NAMES[code] in text and code in text
        others = [c for c in DRECHTSTEDEN if c != code]
        assert not any(c in text or NAMES[c] in text for c in others)
        assert not any(c in str(destination.decision.inputs) for c in others)


def test_no_rule_goes_to_the_ci_owners_team_by_fb_team_then_gemma_then_default(
    example_config: SchakelConfig, shared_cmdb: CiTable
) -> None:
    router = Router(example_config, shared_cmdb)
    got = decide(router, incident(ci_record="afs", supplier="kpn"))
    assert {k: teams(v) for k, v in got.items()} == {
        "GM0505": [("GM0505", "fb-burgerzaken")],  # owns the GEMMA component
        "GM0523": [("GM0523", "fb-algemeen")],  # no team owns it there: default team
    }
    assert all(d.decision.basis == "ci-owner" and d.decision.rule_id is None for d in got.values())
    assert "Geen routeringsregel" in got["GM0505"].decision.explanation
    assert "GEMMA-component Afsprakenbeheercomponent" in got["GM0505"].decision.explanation
    got = decide(router, incident(ci_record="brp"))
    assert teams(got["GM0505"]) == [("GM0505", "fb-zaken")]  # the CI's fb_team wins
    assert "beheert 'BRP-suite' volgens de CMDB" in got["GM0505"].decision.explanation


def test_incident_on_a_server_reaches_the_owners_of_what_runs_on_it(
    example_config: SchakelConfig, shared_cmdb: CiTable
) -> None:
    router = Router(example_config, shared_cmdb)
    got = decide(router, incident(ci_record="srv", title="Server reageert niet"))
    assert list(got) == ["GM0505"]
    decision = got["GM0505"].decision
    assert decision.basis == "ci-owner"
    assert teams(got["GM0505"]) == [("GM0505", "fb-zaken")]
    assert decision.inputs["via_ci"] == ["BRP-suite"]
    assert decision.inputs["gemeente_owns_ci"] == "yes"
    assert "'BRP-suite' van Dordrecht afhankelijk van 'DC1-APP01'" in decision.explanation


def test_rule_hit_keywords_and_stop(example_config: SchakelConfig, shared_cmdb: CiTable) -> None:
    router = Router(example_config, shared_cmdb)
    got = decide(router, incident(ci_record="fs", title="WOZ-aanslagen blijven hangen"))
    # the belastingen rule matches and stops: the CI owner (GM0642) does not get it
    assert list(got) == ["GM0505"]
    decision = got["GM0505"].decision
    assert decision.rule_id == "belastingen" and decision.basis == "rule"
    assert teams(got["GM0505"]) == [("GM0505", "fb-belastingen")]
    assert decision.inputs["keywords"] == ["WOZ", "aanslag"]  # "-aanslagen" begins a word
    assert decision.inputs["gemeente_owns_ci"] == "no"
    assert "trefwoorden 'WOZ', 'aanslag' in titel of omschrijving" in decision.explanation


def test_rule_without_stop_goes_on(example_config: SchakelConfig, shared_cmdb: CiTable) -> None:
    router = Router(example_config, shared_cmdb)
    got = decide(
        router,
        incident(ci_record="zs", priority=Priority.P1, category="Datacenter", title="Alles plat"),
    )
    assert set(got) == set(DRECHTSTEDEN)
    decision = got["GM0505"].decision
    assert decision.rule_id == "datacenter-p1"
    assert decision.inputs["rules_matched"] == ["datacenter-p1", "zaaksysteem-gedeeld"]
    assert "Regel 'datacenter-p1'" in decision.explanation
    assert "Regel 'zaaksysteem-gedeeld'" in decision.explanation


def test_ci_owners_with_a_team_the_owner_lacks_gets_its_default_team(
    example_config: SchakelConfig, shared_cmdb: CiTable
) -> None:
    router = Router(example_config, shared_cmdb)
    got = decide(router, incident(ci_name="Afsprakenplanner", supplier="centric"))
    assert {k: teams(v) for k, v in got.items()} == {
        "GM0505": [("GM0505", "fb-burgerzaken")],
        "GM0523": [("GM0523", "fb-algemeen")],
    }
    assert got["GM0523"].decision.rule_id == "afspraken-burgerzaken"
    assert "geen team fb-burgerzaken" in got["GM0523"].decision.explanation


def test_rule_resolving_to_nobody_counts_as_not_matched(example_config: SchakelConfig) -> None:
    config = with_rules(
        example_config,
        [
            {
                "id": "owners-of-gis",
                "description": "GIS naar de eigenaren",
                "match": {"ci": ["GIS-viewer"]},
                "recipients": [{"gemeente": "ci-owners"}],
            },
            {
                "id": "vangnet",
                "description": "Alles van leverancier X naar Sliedrecht",
                "match": {"supplier": ["kpn"]},
                "recipients": [{"gemeente": "GM0610"}],
            },
        ],
    )
    router = Router(config, CiTable([ci("gis", "GIS-viewer", gemeenten=["GM9999"])]))
    got = decide(router, incident(ci_record="gis"))
    assert list(got) == ["GM0610"]
    assert got["GM0610"].decision.rule_id == "vangnet"
    assert got["GM0610"].decision.inputs["rules_matched"] == ["vangnet"]


@pytest.mark.parametrize(
    ("ticket", "reason"),
    [
        (incident(), "het ticket noemt geen configuratie-item"),
        (incident(ci_name="Onbekend"), "configuratie-item 'Onbekend' staat niet (eenduidig)"),
        (incident(ci_record="gis"), "'GIS-viewer' heeft in de CMDB geen eigenaar"),
    ],
)
def test_nobody_means_the_triage_queue(
    example_config: SchakelConfig, shared_cmdb: CiTable, ticket: Any, reason: str
) -> None:
    router = Router(example_config, shared_cmdb)
    got = decide(router, ticket)
    assert list(got) == ["triage"]
    destination = got["triage"]
    assert destination.topic == TRIAGE and destination.gemeente is None
    assert destination.decision.basis == "triage" and destination.decision.rule_id is None
    assert teams(destination) == [(None, "regie-triage")]
    assert reason in destination.decision.explanation
    assert "triagewachtrij van de regie" in destination.decision.explanation


def test_changes_route_like_incidents(example_config: SchakelConfig, shared_cmdb: CiTable) -> None:
    router = Router(example_config, shared_cmdb)
    got = router.decide(change(ci_record="fs"), kind=EntityKind.CHANGE, event_id="e", now=NOW)
    assert [d.gemeente for d in got] == ["GM0642"]
    assert got[0].decision.inputs["kind"] == "change"
    assert got[0].decision.inputs["priority"] is None


def test_cmdb_changes_are_seen_by_the_next_decision(example_config: SchakelConfig) -> None:
    table = CiTable([ci("x", "Applicatie X", gemeenten=["GM0505"])])
    router = Router(example_config, table)
    assert list(decide(router, incident(ci_record="x"))) == ["GM0505"]
    table.apply(ci("x", "Applicatie X", gemeenten=["GM0590"], version=2))
    assert list(decide(router, incident(ci_record="x"))) == ["GM0590"]
    table.apply(ci("x", deleted=True, version=3))
    assert list(decide(router, incident(ci_record="x"))) == ["triage"]


def test_decisions_carry_this_events_ids_and_time(
    example_config: SchakelConfig, shared_cmdb: CiTable
) -> None:
    router = Router(example_config, shared_cmdb)
    first = router.decide(
        incident("a", ci_record="fs"), kind=EntityKind.INCIDENT, event_id="e1", now=NOW
    )
    later = datetime(2026, 11, 25, tzinfo=UTC)
    second = router.decide(
        incident("b", ci_record="fs"), kind=EntityKind.INCIDENT, event_id="e2", now=later
    )
    assert (first[0].decision.event_id, first[0].decision.decided_at) == ("e1", NOW)
    assert (second[0].decision.event_id, second[0].decision.decided_at) == ("e2", later)
    assert second[0].decision.hub_id == incident("b").hub_id
    with pytest.raises(ValueError, match="aware"):
        router.decide(incident(), kind=EntityKind.INCIDENT, event_id="e", now=datetime(2026, 1, 1))


# --- routed events ----------------------------------------------------------------------


def test_routed_events_are_nl_gov_cloudevents_keyed_by_hub_id(
    example_config: SchakelConfig, shared_cmdb: CiTable
) -> None:
    router = Router(example_config, shared_cmdb)
    ticket = incident("inc-9", ci_record="afs", version=7)
    record = ticket_record(ticket)
    source_event = decode_event(INCIDENTS, record.value or b"")
    result = router.route_batch([record], now=NOW)
    assert (result.routed, result.by_ci_owner, result.dead_lettered) == (1, 1, 0)
    assert sorted(m.topic for m in result.messages) == [
        gemeente_topic("GM0505"),
        gemeente_topic("GM0523"),
    ]
    for message, stored in zip(result.messages, result.decisions, strict=True):
        event = CloudEvent[RoutedTicket].model_validate_json(message.value)
        code = message.topic.split(".")[2]
        assert event.id == routed_event_id(source_event.id, code)
        assert event.id == derived_id("routed", source_event.id, code)
        assert event.type == "nl.itsm.incident.routed.v1"
        assert event.subject == ticket.hub_id and message.key == ticket.hub_id.encode()
        assert event.source == source_event.source and event.time == source_event.time
        assert event.sequence == "7" and event.supplierid == "kpn"
        assert event.dataschema == "urn:nld:schakel:schema:routedticket:v1"
        assert event.data.kind == "incident" and event.data.ticket == ticket
        assert event.data.decision.event_id == source_event.id
        assert [r.gemeente for r in event.data.decision.recipients] == [code]
        assert event.data.decision == stored.decision
        assert (stored.destination, stored.routed_event_id) == (code, event.id)
        headers = dict(message.headers)
        assert headers["schakel-event-id"] == event.id.encode()
        assert headers["schakel-hub-id"] == ticket.hub_id.encode()
        assert headers["schakel-destination"] == code.encode()
        # byte for byte what the schemas' own writer makes of it
        again = encode_event(
            id=event.id,
            source=event.source,
            type=event.type,
            subject=event.subject,
            time=event.time,
            dataschema=event.dataschema,
            sequence=7,
            supplierid=event.supplierid,
            data=event.data,
        )
        assert again == message.value == event.model_dump_json().encode()


def test_a_redelivered_event_gets_the_same_routed_ids(
    example_config: SchakelConfig, shared_cmdb: CiTable
) -> None:
    router = Router(example_config, shared_cmdb)
    record = ticket_record(incident(ci_record="zs"))
    first = router.route_batch([record], now=NOW)
    second = Router(example_config, shared_cmdb).route_batch([record], now=NOW)
    ids = lambda r: [dict(m.headers)["schakel-event-id"] for m in r.messages]  # noqa: E731
    assert ids(first) == ids(second) and len(set(ids(first))) == 7
    assert [m.value for m in first.messages] == [m.value for m in second.messages]


def test_changes_topic_routes_changes(example_config: SchakelConfig, shared_cmdb: CiTable) -> None:
    router = Router(example_config, shared_cmdb)
    result = router.route_batch([ticket_record(change(ci_record="fs"))], now=NOW)
    event = CloudEvent[RoutedTicket].model_validate_json(result.messages[0].value)
    assert event.type == "nl.itsm.change.routed.v1" and event.data.kind == "change"


@pytest.mark.parametrize(
    ("topic", "value"),
    [
        (INCIDENTS, b'{"specversion": "1.0", '),
        (INCIDENTS, b"[]"),
        (CHANGES, ticket_event(incident())),  # an incident on the changes topic
        ("schakel.other.v1", ticket_event(incident())),
    ],
)
def test_unreadable_events_are_dead_lettered_with_the_original_bytes(
    example_config: SchakelConfig, topic: str, value: bytes
) -> None:
    router = Router(example_config)
    good = ticket_record(incident(ci_record="x"))
    bad = FakeRecord(topic, 2, 41, b"k", value, (("h", b"v"),))
    result = router.route_batch([bad, good], now=NOW)
    assert result.dead_lettered == 1 and result.routed == 1 and result.triaged == 1
    dead = result.messages[0]
    assert dead.value == value and dead.key == b"k"
    headers = dict(dead.headers)
    assert headers[DLQ_SERVICE] == b"router"
    assert headers[DLQ_ERROR_CLASS] == b"UnreadableEvent"
    assert headers[DLQ_TOPIC] == topic.encode()
    assert headers["h"] == b"v"
    with pytest.raises(UnreadableEvent):
        decode_event(topic, value)


def test_a_router_bug_dead_letters_that_record_only(
    example_config: SchakelConfig, shared_cmdb: CiTable, monkeypatch: pytest.MonkeyPatch
) -> None:
    import services.router.pipeline as pipeline

    router = Router(example_config, shared_cmdb)
    unlucky = ticket_record(incident("boom", ci_record="zs"))
    unlucky_id = decode_event(INCIDENTS, unlucky.value or b"").id
    real = pipeline.routed_event_id

    def buggy(event_id: str, destination: str) -> str:
        if event_id == unlucky_id and destination == "GM0505":  # the 2nd of 7 destinations
            raise RuntimeError("bug")
        return real(event_id, destination)

    monkeypatch.setattr(pipeline, "routed_event_id", buggy)
    records = [unlucky, ticket_record(incident("fine", ci_record="fs"), 1)]
    result = router.route_batch(records, now=NOW)
    assert (result.routed, result.dead_lettered) == (1, 1)
    # nothing of the failed event was half-routed
    assert [m.topic for m in result.messages] == ["schakel.deadletter.v1", gemeente_topic("GM0642")]
    assert dict(result.messages[0].headers)[DLQ_ERROR_CLASS] == b"RuntimeError"
    assert result.messages[0].value == unlucky.value
    assert len(result.decisions) == 1


# --- references and the feed ------------------------------------------------------------


def test_reference_checks_warn_and_change_with_the_cmdb(example_config: SchakelConfig) -> None:
    table = CiTable()
    router = Router(example_config, table)
    warnings = router.check()
    assert any("'Zaaksysteem Drechtsteden'" in w and "not in the CMDB" in w for w in warnings)
    table.apply(ci("zs", "Zaaksysteem Drechtsteden", gemeenten=DRECHTSTEDEN))
    table.apply(ci("gis", gemeenten=["GM9999"], fb_team="fb-geo"))
    warnings = router.check()
    assert not any("Zaaksysteem Drechtsteden" in w for w in warnings)
    assert any("GM9999" in w and "not configured" in w for w in warnings)
    assert any("'fb-geo'" in w for w in warnings)
    reloaded = router.reload(with_rules(example_config, []))
    assert not any("rule" in w for w in reloaded)


async def test_feed_is_loaded_once_it_reached_the_start_offsets() -> None:
    table = CiTable()
    ends = {0: 2, 1: 0, 2: 5}
    loaded: list[int] = []

    async def end_offsets() -> dict[int, int]:
        return ends

    feed = CmdbFeed(table, end_offsets, on_loaded=lambda: loaded.append(len(table)))
    await feed.apply(
        [ci_record(ci("a"), offset=0, partition=0), ci_record(ci("b"), offset=0, partition=2)]
    )
    assert not feed.loaded
    await feed.apply(
        [
            ci_record(ci("c"), offset=3, partition=2),
            FakeRecord("schakel.cis.v1", 2, 4, b"k", b"not json"),  # skipped, counted
        ]
    )
    assert not feed.loaded  # partition 0 is at 1 of 2
    await feed.apply([FakeRecord("schakel.cis.v1", 0, 1, ci("a").hub_id.encode(), None)])
    assert feed.loaded and loaded == [2]  # the tombstone removed "a"
    assert feed.unreadable == 1
    assert await feed.wait_loaded(0.01)


async def test_feed_wait_gives_up_after_the_timeout() -> None:
    async def end_offsets() -> dict[int, int]:
        return {0: 10}

    feed = CmdbFeed(CiTable(), end_offsets)
    assert not await feed.wait_loaded(0.05)
    assert feed.loaded  # routing goes on with what there is


def test_explanations_name_no_other_gemeente(
    example_config: SchakelConfig, shared_cmdb: CiTable
) -> None:
    router = Router(example_config, shared_cmdb)
    tickets = [
        incident(ci_record="zs"),
        incident(ci_record="afs"),
        incident(ci_record="srv"),
        incident(ci_record="zs", priority=Priority.P1, category="Netwerk"),
    ]
    codes = re.compile(r"GM\d{4}")
    for ticket in tickets:
        for destination in decide(router, ticket).values():
            text = destination.decision.explanation + str(destination.decision.inputs)
            assert set(codes.findall(text)) <= {destination.gemeente}
