"""Tenant isolation, as a property: random rule sets, CMDBs and tickets (hypothesis).

The router is checked against an oracle written from the documented semantics, separately
from the implementation (its own CI lookup, relation walk, keyword regex and rule loop).

A ticket **concerns** gemeente G when, with the CMDB and the rules at the time it is routed:

* G owns the ticket's CI, or a CI that depends on it (at most two dependency steps), per the
  CMDB; or
* a rule that matches the ticket names G explicitly as a recipient.

(A matching ``ci-owners`` rule adds nobody beyond the first case.) The properties:

1. isolation: every gemeente that receives a ticket is concerned by it, its event goes to its
   own topic, and the decision lists only that gemeente's (existing) teams and names no other
   gemeente anywhere (recipients, inputs, explanation);
2. completeness: every ticket goes somewhere: one or more gemeenten, or else the triage
   queue, never both;
3. exactness: the set of gemeenten is exactly what the documented evaluation gives (rules in
   order, recipients that resolve to nobody do not count, ``stop``; else the CI owners; else
   triage), and CI-owner routing picks each owner's team by fb_team, GEMMA component,
   default team.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

import orjson
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from schemas import (
    CiRef,
    CloudEvent,
    ConfigurationItem,
    Incident,
    Priority,
    RoutedTicket,
)
from schemas.topics import TRIAGE, gemeente_topic
from services.cmdb import CiTable
from services.config import SchakelConfig, load_config
from services.router import Router
from tests.conftest import REPO
from tests.router_kit import ci, incident, ticket_record

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
CONFIGURED = ("GM0482", "GM0505", "GM0523", "GM0531", "GM0590", "GM0610", "GM0642")
CMDB_CODES = (*CONFIGURED, "GM9999")  # a CMDB may name a gemeente the hub does not serve
SUPPLIERS = ("kpn", "centric")
RECORDS = tuple(f"c{i}" for i in range(10))
NAMES = ("Zaaksysteem", "zaaksysteem", "BRP-suite", "Server 1", "Portaal", "GIS")
COMPONENTS = (
    "Zaakregistratiecomponent",
    "burgerzakencomponent",
    "Afsprakenbeheercomponent",
    "WOZ-component",
    "Onbekendcomponent",
)
FB_TEAMS = ("fb-zaken", "fb-burgerzaken", "fb-algemeen", "fb-belastingen", "fb-geo")
KINDS = ("depends_on", "runs_on", "hosted_on", "uses", "used_by", "runs", "hosts", "contains")
CATEGORIES = ("Datacenter", "datacenter", "software", "Netwerk")
KEYWORDS = ("woz", "Belasting", "storing", "balie printer", "zaak", "print")
WORDS = (
    "Storing",
    "storing",
    "WOZ-waarde",
    "hondenbelasting",
    "belastingen",
    "balie",
    "printer",
    "balieprinter",
    "zaak",
    "zaaksysteem",
    "Sprint",
    "-woz",
    "print_job",
    "traag",
)
SEPARATORS = (" ", "\n", "  ", "-", ", ", "\t")
DEPENDS_ON = {"depends_on", "runs_on", "hosted_on", "uses", "consumes", "virtualized_by"}
SUPPORTS = {"used_by", "runs", "hosts", "consumed_by", "virtualizes"}


@cache
def base() -> tuple[dict[str, Any], dict[str, frozenset[str]]]:
    config = load_config(REPO / "config" / "schakel.yaml")
    document = config.model_dump(mode="json")
    teams = {g.code: frozenset(t.id for t in g.teams) for g in config.gemeenten}
    return document, teams


# --- strategies -------------------------------------------------------------------------


@st.composite
def recipients(draw: st.DrawFn) -> dict[str, Any]:
    _, teams = base()
    if draw(st.booleans()):
        owners_team = draw(
            st.none() | st.sampled_from(sorted({t for ts in teams.values() for t in ts}))
        )
        return {"gemeente": "ci-owners", "team": owners_team}
    code = draw(st.sampled_from(CONFIGURED))
    return {"gemeente": code, "team": draw(st.none() | st.sampled_from(sorted(teams[code])))}


@st.composite
def rules(draw: st.DrawFn) -> list[dict[str, Any]]:
    out = []
    for index in range(draw(st.integers(0, 5))):
        pools: dict[str, Iterable[str]] = {
            "ci": (*RECORDS, *NAMES),
            "gemma_component": COMPONENTS,
            "category": CATEGORIES,
            "supplier": SUPPLIERS,
            "priority": ("P1", "P2", "P3", "P4", "P5"),
            "keywords": KEYWORDS,
        }
        fields = draw(st.sets(st.sampled_from(sorted(pools)), min_size=1, max_size=3))
        match = {
            name: draw(st.lists(st.sampled_from(sorted(pools[name])), min_size=1, max_size=3))
            for name in fields
        }
        out.append(
            {
                "id": f"rule-{index}",
                "description": f"regel {index}",
                "match": match,
                "recipients": draw(st.lists(recipients(), min_size=1, max_size=3)),
                "stop": draw(st.booleans()),
            }
        )
    return out


@st.composite
def configuration_items(draw: st.DrawFn) -> ConfigurationItem:
    record = draw(st.sampled_from(RECORDS))
    supplier = draw(st.sampled_from(SUPPLIERS))
    if draw(st.integers(0, 9)) == 0:  # a relation record (ServiceNow cmdb_rel_ci)
        parent, child = draw(st.sampled_from(RECORDS)), draw(st.sampled_from(RECORDS))
        return ci(
            f"rel-{record}",
            ci_class="cmdb_rel_ci",
            supplier=supplier,
            relations=[
                (draw(st.sampled_from(KINDS)), child),
                (draw(st.sampled_from(KINDS)), parent),
            ],
            deleted=draw(st.integers(0, 5)) == 0,
        )
    return ci(
        record,
        draw(st.sampled_from(NAMES)),
        supplier=supplier,
        gemeenten=sorted(draw(st.sets(st.sampled_from(CMDB_CODES), max_size=4))),
        gemma=draw(st.none() | st.sampled_from(COMPONENTS)),
        fb_team=draw(st.none() | st.sampled_from(FB_TEAMS)),
        relations=draw(
            st.lists(st.tuples(st.sampled_from(KINDS), st.sampled_from(RECORDS)), max_size=2)
        ),
        deleted=draw(st.integers(0, 9)) == 0,
    )


def text() -> st.SearchStrategy[str]:
    return st.lists(st.tuples(st.sampled_from(SEPARATORS), st.sampled_from(WORDS)), max_size=6).map(
        lambda parts: "".join(s + w for s, w in parts)
    )


@st.composite
def tickets(draw: st.DrawFn) -> Incident:
    return incident(
        f"inc-{draw(st.integers(0, 10**6))}",
        title=draw(text()),
        description=draw(text()),
        ci_record=draw(st.none() | st.sampled_from((*RECORDS, "rel-c1", "c99"))),
        ci_name=draw(st.none() | st.sampled_from((*NAMES, "Onbekend"))),
        supplier=draw(st.sampled_from((*SUPPLIERS, "zaakplatform"))),
        priority=draw(st.sampled_from(list(Priority))),
        category=draw(st.none() | st.sampled_from(CATEGORIES)),
    )


# --- the oracle ---------------------------------------------------------------------------


@dataclass
class Oracle:
    """The documented routing semantics, implemented naively and separately."""

    config: SchakelConfig
    cmdb: dict[tuple[str, str], ConfigurationItem]

    @classmethod
    def of(cls, config: SchakelConfig, items: list[ConfigurationItem]) -> Oracle:
        cmdb: dict[tuple[str, str], ConfigurationItem] = {}
        for item in items:  # last one wins; a deletion removes
            key = (item.supplier_ref.supplier, item.supplier_ref.record_id)
            if item.deleted:
                cmdb.pop(key, None)
            else:
                cmdb[key] = item
        return cls(config, cmdb)

    def cis(self) -> list[ConfigurationItem]:
        return [c for c in self.cmdb.values() if c.ci_class != "cmdb_rel_ci"]

    def resolve(self, supplier: str, ref: CiRef | None) -> ConfigurationItem | None:
        if ref is None:
            return None
        cis = self.cis()
        if ref.record_id:
            exact = [c for c in cis if c.supplier_ref.supplier == supplier]
            exact = [c for c in exact if c.supplier_ref.record_id == ref.record_id]
            if exact:
                return exact[0]
            anywhere = [c for c in cis if c.supplier_ref.record_id == ref.record_id]
            if len(anywhere) == 1:
                return anywhere[0]
        if ref.name:
            named = [c for c in cis if c.name.lower() == ref.name.lower()]
            own = [c for c in named if c.supplier_ref.supplier == supplier]
            if own:
                return own[0] if len(own) == 1 else None
            if len(named) == 1:
                return named[0]
        return None

    def edges(self) -> set[tuple[tuple[str, str], tuple[str, str]]]:
        """(provider, dependent) pairs."""
        found = set()
        for item in self.cmdb.values():
            s = item.supplier_ref.supplier
            if item.ci_class == "cmdb_rel_ci":
                first, second = item.relations
                triples = [
                    (second.target_record_id, first.kind, first.target_record_id),
                    (first.target_record_id, second.kind, second.target_record_id),
                ]
            else:
                triples = [
                    (item.supplier_ref.record_id, r.kind, r.target_record_id)
                    for r in item.relations
                ]
            for a, kind, b in triples:
                if kind in DEPENDS_ON:
                    found.add(((s, b), (s, a)))
                elif kind in SUPPORTS:
                    found.add(((s, a), (s, b)))
        return found

    def affected(self, item: ConfigurationItem) -> list[ConfigurationItem]:
        edges = self.edges()
        start = (item.supplier_ref.supplier, item.supplier_ref.record_id)
        reached, frontier = {start}, {start}
        for _ in range(2):
            frontier = {d for p, d in edges if p in frontier} - reached
            reached |= frontier
        return [
            self.cmdb[k]
            for k in reached
            if k in self.cmdb and self.cmdb[k].ci_class != "cmdb_rel_ci"
        ]

    def owners(self, item: ConfigurationItem | None) -> set[str]:
        if item is None:
            return set()
        return {g for c in self.affected(item) for g in c.gemeenten if g in CONFIGURED}

    def matches(self, rule: Any, ticket: Incident, item: ConfigurationItem | None) -> bool:
        m = rule.match
        if m.supplier and ticket.supplier_ref.supplier not in m.supplier:
            return False
        if m.priority and ticket.priority.value not in m.priority:
            return False
        if m.category and (ticket.category or "").lower() not in {c.lower() for c in m.category}:
            return False
        if m.ci:
            values = {ticket.ci.record_id, ticket.ci.name} if ticket.ci else set()
            if item is not None:
                values |= {item.supplier_ref.record_id, item.name, item.hub_id}
            folded = {v.lower() for v in values if v}
            if not any(v.lower() in folded for v in m.ci):
                return False
        if m.gemma_component:
            gemma = (item.gemma_component or "").lower() if item else ""
            if gemma not in {g.lower() for g in m.gemma_component}:
                return False
        if m.keywords:
            full = f"{ticket.title}\n{ticket.description}"
            patterns = [
                r"(?<![A-Za-z0-9_])" + r"\s+".join(map(re.escape, k.split())) for k in m.keywords
            ]
            if not any(re.search(p, full, re.IGNORECASE) for p in patterns):
                return False
        return True

    def concerns(self, code: str, ticket: Incident) -> bool:
        item = self.resolve(ticket.supplier_ref.supplier, ticket.ci)
        if code in self.owners(item):
            return True
        return any(
            self.matches(rule, ticket, item) and any(r.gemeente == code for r in rule.recipients)
            for rule in self.config.routing.rules
        )

    def expected(self, ticket: Incident) -> set[str]:
        item = self.resolve(ticket.supplier_ref.supplier, ticket.ci)
        owners = self.owners(item)
        chosen: set[str] = set()
        matched = False
        for rule in self.config.routing.rules:
            if not self.matches(rule, ticket, item):
                continue
            gemeenten = set()
            for r in rule.recipients:
                gemeenten |= owners if r.gemeente == "ci-owners" else {r.gemeente}
            if not gemeenten:
                continue
            matched = True
            chosen |= gemeenten
            if rule.stop:
                break
        if matched:
            return chosen
        return owners or {"triage"}

    def owner_teams(self, code: str, ticket: Incident) -> set[str]:
        item = self.resolve(ticket.supplier_ref.supplier, ticket.ci)
        assert item is not None
        gemeente = self.config.gemeente(code)
        team_ids = {t.id for t in gemeente.teams}
        teams = set()
        for c in self.affected(item):
            if code not in c.gemeenten:
                continue
            if c.fb_team in team_ids:
                teams.add(c.fb_team)
                continue
            by_component = [
                t.id
                for t in gemeente.teams
                if c.gemma_component
                and c.gemma_component.lower() in {x.lower() for x in t.gemma_components}
            ]
            teams.add(by_component[0] if by_component else gemeente.default_team)
        return teams


# --- the properties -----------------------------------------------------------------------

GM_CODE = re.compile(rb"GM\d{4}")


@settings(
    max_examples=350,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    rule_set=rules(),
    items=st.lists(configuration_items(), max_size=14),
    batch=st.lists(
        tickets(), min_size=1, max_size=12, unique_by=lambda t: t.supplier_ref.record_id
    ),
)
def test_gemeenten_get_only_what_concerns_them_and_every_ticket_goes_somewhere(
    rule_set: list[dict[str, Any]], items: list[ConfigurationItem], batch: list[Incident]
) -> None:
    document, teams = base()
    config = SchakelConfig.model_validate({**document, "routing": {"rules": rule_set}})
    router = Router(config, CiTable(items))
    oracle = Oracle.of(config, items)
    result = router.route_batch([ticket_record(t, i) for i, t in enumerate(batch)], now=NOW)
    assert result.dead_lettered == 0 and result.routed == len(batch)
    by_ticket: dict[str, list[Any]] = {}
    for message in result.messages:
        parsed = CloudEvent[RoutedTicket].model_validate_json(message.value)
        by_ticket.setdefault(parsed.data.ticket.supplier_ref.record_id, []).append(
            (message, parsed)
        )
    seen_ids = set()
    for ticket in batch:
        routed = by_ticket.get(ticket.supplier_ref.record_id, [])
        by_ticket.pop(ticket.supplier_ref.record_id, None)
        destinations = {e.data.decision.recipients[0].gemeente or "triage" for _, e in routed}
        # completeness: somewhere, triage only when no gemeente
        assert destinations, "a ticket was routed nowhere"
        assert len(destinations) == len(routed), "one event per destination"
        assert "triage" not in destinations or destinations == {"triage"}
        # exactness against the documented evaluation
        assert destinations == oracle.expected(ticket), (ticket, config.routing.rules)
        bases = {e.data.decision.basis for _, e in routed}
        event(f"basis {'+'.join(sorted(bases))}, {len(destinations)} destination(s)")
        for message, routed_event in routed:
            decision = routed_event.data.decision
            seen_ids.add(routed_event.id)
            if decision.basis == "triage":
                assert message.topic == TRIAGE
                assert [(r.gemeente, r.team) for r in decision.recipients] == [
                    (None, config.routing.triage_team)
                ]
                assert not GM_CODE.search(orjson.dumps(decision.model_dump(mode="json")))
                continue
            code = decision.recipients[0].gemeente
            assert code is not None
            # isolation: concerned, own topic, own teams only, no other gemeente named
            assert oracle.concerns(code, ticket), (code, ticket, config.routing.rules)
            assert message.topic == gemeente_topic(code)
            assert all(r.gemeente == code and r.team in teams[code] for r in decision.recipients)
            named = set(GM_CODE.findall(orjson.dumps(decision.model_dump(mode="json"))))
            assert named <= {code.encode()}
            others = [g.name for g in config.gemeenten if g.code != code]
            assert not any(name in decision.explanation for name in others)
            if decision.basis == "ci-owner":
                assert {r.team for r in decision.recipients} == oracle.owner_teams(code, ticket)
    assert not by_ticket  # nothing routed for a ticket that was not in the batch
    assert len(seen_ids) == len(result.messages)  # routed event ids are unique
