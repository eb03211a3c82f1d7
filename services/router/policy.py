"""The routing policy: who gets a ticket, and which of their teams. Plain logic, no Kafka,
no encoding.

A *content-based router* with a *recipient list* (EIP). For each incident or change:

1. the CMDB finds the ticket's CI and the CIs that depend on it (:mod:`services.cmdb`); the
   gemeenten owning any of them are the ticket's *owners*;
2. the rules are evaluated in file order (:mod:`.rules`); every matching rule adds its
   recipients, the first matching rule with ``stop`` ends the evaluation, and a rule whose
   recipients resolve to nobody (``ci-owners`` when there are no owners) counts as not matched;
3. when no rule matched, every owner receives the ticket (basis ``ci-owner``);
4. when there are no owners either, the regie's triage queue does (basis ``triage``).
   A ticket is never routed nowhere.

**Teams.** A recipient without a team, and every owner in step 3, gets per CI that makes it an
owner: the CI's ``fb_team`` if that gemeente has such a team, else the team owning the CI's
GEMMA component, else the gemeente's default team. A gemeente a rule names that owns none of
the CIs is judged by the ticket's own CI the same way. ``ci-owners`` with a named team gives
owners without that team their default team.

**Tenant isolation.** Every gemeente gets its own :class:`Destination` whose decision lists
only that gemeente's teams; its explanation (:mod:`.wording`) and inputs name no other
gemeente. The triage queue gets one destination.

:meth:`RoutingPolicy.plan` returns decisions whose hub id, event id and time are blank: what
one plan decides holds for every event with the same routing inputs (the router caches it).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from schemas import (
    Change,
    CiRef,
    ConfigurationItem,
    EntityKind,
    Incident,
    RecipientRef,
    RoutingDecision,
)
from schemas.topics import TRIAGE, gemeente_topic
from schemas.wire import TRIAGE_DESTINATION
from services.cmdb import Affected, CiTable
from services.config import CI_OWNERS, Gemeente, SchakelConfig
from services.router import wording
from services.router.rules import RuleHit, RuleSet, TicketFacts, fold_text

__all__ = [
    "BASIS_CI_OWNER",
    "BASIS_RULE",
    "BASIS_TRIAGE",
    "Destination",
    "RoutingPolicy",
    "Ticket",
    "ticket_facts",
]

Ticket = Incident | Change

BASIS_RULE = "rule"
BASIS_CI_OWNER = "ci-owner"
BASIS_TRIAGE = "triage"

_BLANK_TIME = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Destination:
    """Where one routed event goes, with the decision as that receiver sees it."""

    gemeente: str | None  # None: the triage queue
    topic: str
    decision: RoutingDecision

    @property
    def name(self) -> str:
        """The gemeente code, or ``triage``."""
        return self.gemeente or TRIAGE_DESTINATION


class _GemeenteView:
    """A gemeente's teams, folded for lookups."""

    __slots__ = ("components", "gemeente", "teams")

    def __init__(self, gemeente: Gemeente) -> None:
        self.gemeente = gemeente
        self.teams = frozenset(t.id for t in gemeente.teams)
        self.components = {c.casefold(): t.id for t in gemeente.teams for c in t.gemma_components}

    def team_for(self, ci: Affected | None) -> tuple[str, str]:
        """(team, reason) for a CI, by fb_team, then GEMMA component, then default team."""
        if ci is not None:
            item = ci.ci
            if item.fb_team and item.fb_team in self.teams:
                return item.fb_team, wording.team_by_fb_team(item)
            if item.gemma_component:
                team = self.components.get(item.gemma_component.casefold())
                if team is not None:
                    return team, wording.team_by_component(item.gemma_component)
        return self.gemeente.default_team, wording.TEAM_DEFAULT


@dataclass(slots=True)
class _Plan:
    """Per gemeente: teams with their reason, rule hits that sent it there."""

    teams: dict[str, str] = field(default_factory=dict)
    hits: list[RuleHit] = field(default_factory=list)
    owner_rule: bool = False


def ticket_facts(ticket: Ticket, ci: ConfigurationItem | None) -> TicketFacts:
    """What the rules look at: the ticket and the CI the CMDB resolved it to."""
    values: set[str] = set()
    ref = ticket.ci
    if ref is not None:
        if ref.record_id:
            values.add(ref.record_id.casefold())
        if ref.name:
            values.add(ref.name.casefold())
    gemma = None
    if ci is not None:
        values.add(ci.supplier_ref.record_id.casefold())
        values.add(ci.name.casefold())
        values.add(ci.hub_id)
        gemma = ci.gemma_component
    return TicketFacts(
        supplier=ticket.supplier_ref.supplier,
        priority=ticket.priority.value if ticket.priority is not None else None,
        category=ticket.category,
        ci_values=frozenset(values),
        gemma_component=gemma,
        text=fold_text(f"{ticket.title}\n{ticket.description}"),
    )


def _inputs(
    kind: EntityKind,
    supplier: str,
    priority: str | None,
    category: str | None,
    ref: CiRef | None,
    ci: ConfigurationItem | None,
    used: Sequence[RuleHit],
) -> dict[str, str | list[str] | None]:
    """The facts the decision used; nothing here names a gemeente."""
    inputs: dict[str, str | list[str] | None] = {
        "kind": kind.value,
        "supplier": supplier,
        "priority": priority,
        "category": category,
        "ci_record_id": ref.record_id if ref is not None else None,
        "ci_name": ref.name if ref is not None else None,
        "cmdb_ci": ci.hub_id if ci is not None else None,
        "cmdb_ci_name": ci.name if ci is not None else None,
        "gemma_component": ci.gemma_component if ci is not None else None,
        "fb_team": ci.fb_team if ci is not None else None,
        "rules_matched": [hit.rule.id for hit in used],
    }
    keywords = [k for hit in used for k in hit.keywords]
    if keywords:
        inputs["keywords"] = keywords
    return inputs


class RoutingPolicy:
    """The rules and gemeenten of one configuration, deciding over the CMDB ``cmdb``."""

    def __init__(self, config: SchakelConfig, cmdb: CiTable) -> None:
        self.cmdb = cmdb
        self.rules = RuleSet(config.routing)
        self._views = {g.code: _GemeenteView(g) for g in config.gemeenten}

    def hits(self, facts: TicketFacts) -> Iterator[RuleHit]:
        """The rules that match, in file order, with why."""
        return self.rules.hits(facts)

    def plan(
        self,
        kind: EntityKind,
        supplier: str,
        priority: str | None,
        category: str | None,
        ref: CiRef | None,
        ci: ConfigurationItem | None,
        hits: Sequence[RuleHit],
    ) -> tuple[Destination, ...]:
        """The destinations, with decisions whose hub id, event id and time are blank."""
        owners: dict[str, list[Affected]] = {}
        if ci is not None:
            for affected in self.cmdb.affected(ci):
                for code in affected.ci.gemeenten:
                    if code in self._views:
                        owners.setdefault(code, []).append(affected)
        own = Affected(ci) if ci is not None else None
        plans: dict[str, _Plan] = {}
        used: list[RuleHit] = []
        for hit in hits:
            if not self._apply_rule(hit, own, owners, plans):
                continue  # recipients resolved to nobody: not matched
            used.append(hit)
            if hit.rule.stop:
                break
        if used:
            basis = BASIS_RULE
        elif owners:
            basis = BASIS_CI_OWNER
            for code, found in owners.items():
                plan = plans.setdefault(code, _Plan())
                for affected in found:
                    team, reason = self._views[code].team_for(affected)
                    plan.teams.setdefault(team, reason)
        else:
            basis = BASIS_TRIAGE
        inputs = _inputs(kind, supplier, priority, category, ref, ci, used)
        if basis == BASIS_TRIAGE:
            team = self.rules.triage_team
            decision = RoutingDecision(
                hub_id="",
                event_id="",
                rule_id=None,
                basis=basis,
                inputs=inputs,
                recipients=(RecipientRef(gemeente=None, team=team),),
                explanation=wording.triage_text(ref, ci, team),
                decided_at=_BLANK_TIME,
            )
            return (Destination(None, TRIAGE, decision),)
        destinations = []
        for code in sorted(plans):
            plan = plans[code]
            view = self._views[code]
            found = owners.get(code, [])
            tailored = dict(inputs)
            tailored["gemeente_owns_ci"] = "yes" if found else "no"
            via = [a.ci.name for a in found if a.hops > 0]
            if via:
                tailored["via_ci"] = via
            explanation = wording.gemeente_text(
                view.gemeente, plan.hits, plan.teams, ci, found, by_rule=basis == BASIS_RULE
            )
            decision = RoutingDecision(
                hub_id="",
                event_id="",
                rule_id=plan.hits[0].rule.id if plan.hits else None,
                basis=basis,
                inputs=tailored,
                recipients=tuple(RecipientRef(gemeente=code, team=t) for t in plan.teams),
                explanation=explanation,
                decided_at=_BLANK_TIME,
            )
            destinations.append(Destination(code, gemeente_topic(code), decision))
        return tuple(destinations)

    def _apply_rule(
        self,
        hit: RuleHit,
        own: Affected | None,
        owners: dict[str, list[Affected]],
        plans: dict[str, _Plan],
    ) -> bool:
        """Add the rule's recipients to ``plans``; False when they resolve to nobody."""
        adds: list[tuple[str, str, str, bool]] = []  # (gemeente, team, reason, via owners)
        for recipient in hit.rule.recipients:
            if recipient.gemeente == CI_OWNERS:
                for code, found in owners.items():
                    view = self._views[code]
                    if recipient.team is None:
                        adds += [(code, *view.team_for(a), True) for a in found]
                    elif recipient.team in view.teams:
                        adds.append((code, recipient.team, wording.TEAM_NAMED_BY_RULE, True))
                    else:
                        reason = wording.team_default_instead_of(recipient.team)
                        adds.append((code, view.gemeente.default_team, reason, True))
                continue
            code = recipient.gemeente
            view = self._views[code]
            if recipient.team is not None:
                adds.append((code, recipient.team, wording.TEAM_NAMED_BY_RULE, False))
            elif code in owners:
                adds += [(code, *view.team_for(a), False) for a in owners[code]]
            else:
                adds.append((code, *view.team_for(own), False))
        if not adds:
            return False
        for code, team, reason, via_owners in adds:
            plan = plans.setdefault(code, _Plan())
            plan.teams.setdefault(team, reason)
            if hit not in plan.hits:
                plan.hits.append(hit)
            plan.owner_rule = plan.owner_rule or via_owners
        return True
