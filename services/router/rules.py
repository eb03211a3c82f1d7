"""Routing rules compiled for matching, and the checks of their references.

A rule (:class:`services.config.RoutingRule`) matches a ticket when every field of its
``match`` that is set holds (AND), each by one of its values (OR):

=================== ====================================================================
``ci``              the ticket's CI: its record id or name as the ticket gives them, or
                    the record id, name or hub id of the CMDB CI it resolves to
                    (case-insensitive)
``gemma_component`` the GEMMA component of the ticket's CI in the CMDB (case-insensitive);
                    a ticket whose CI the CMDB does not know has none
``category``        the ticket's category (case-insensitive, whole value)
``supplier``        the supplier id the ticket came from
``priority``        the ticket's priority (a change without one matches no priority)
``keywords``        a keyword that begins a word of the title or description,
                    case-insensitive (casefolded): it occurs at the start of the text or
                    right after a character that is not a letter, digit or ``_``. "WOZ"
                    matches "WOZ-beschikking" and "woz", "belasting" matches "Belastingen"
                    but not "hondenbelasting"; spaces in a keyword match any run of white
                    space
=================== ====================================================================

Only the ticket's own CI counts for ``ci`` and ``gemma_component``; the CIs that depend on it
(see :mod:`services.cmdb.table`) widen who owns it, not what it is.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from services.cmdb import CiTable
from services.config import CI_OWNERS, RoutingConfig, RoutingRule, SchakelConfig

__all__ = [
    "CompiledRule",
    "RuleHit",
    "RuleSet",
    "TicketFacts",
    "check_references",
    "fold_text",
    "keyword_in",
]


@dataclass(frozen=True, slots=True)
class TicketFacts:
    """What rules look at, taken from the ticket and the CMDB once per ticket.

    ``ci_values`` are casefolded; ``text`` is the title and description, folded with
    :func:`fold_text`.
    """

    supplier: str
    priority: str | None
    category: str | None
    ci_values: frozenset[str]
    gemma_component: str | None
    text: str


@dataclass(frozen=True, slots=True)
class RuleHit:
    """A rule that matched, and why, in words (Dutch, for the explanation)."""

    rule: RoutingRule
    reasons: tuple[str, ...]
    keywords: tuple[str, ...] = ()


def fold_text(text: str) -> str:
    """Text as keywords are matched in it: casefolded, white space runs as one space."""
    return " ".join(text.casefold().split())


def keyword_in(keyword: str, folded: str) -> bool:
    """Whether ``keyword`` (folded with :func:`fold_text`) begins a word of ``folded``: it
    occurs at the start or right after a character that is not a letter, digit or ``_``."""
    start = folded.find(keyword)
    while start >= 0:
        if start == 0:
            return True
        before = folded[start - 1]
        if not (before.isalnum() or before == "_"):
            return True
        start = folded.find(keyword, start + 1)
    return False


class CompiledRule:
    """One rule, with its values folded and its keywords compiled once."""

    __slots__ = (
        "_categories",
        "_cis",
        "_gemma",
        "_keywords",
        "_priorities",
        "_suppliers",
        "rule",
    )

    def __init__(self, rule: RoutingRule) -> None:
        match = rule.match
        self.rule = rule
        self._suppliers = frozenset(match.supplier) if match.supplier else None
        self._priorities = frozenset(match.priority) if match.priority else None
        self._categories = _folded(match.category)
        self._cis = _folded(match.ci)
        self._gemma = _folded(match.gemma_component)
        self._keywords = (
            tuple((k, fold_text(k)) for k in match.keywords if k.strip())
            if match.keywords
            else None
        )

    def match(self, facts: TicketFacts) -> RuleHit | None:
        """The hit when every condition of the rule holds, else None."""
        reasons: list[str] = []
        if self._suppliers is not None:
            if facts.supplier not in self._suppliers:
                return None
            reasons.append(f"leverancier {facts.supplier}")
        if self._priorities is not None:
            if facts.priority not in self._priorities:
                return None
            reasons.append(f"prioriteit {facts.priority}")
        if self._categories is not None:
            category = facts.category
            if category is None or category.casefold() not in self._categories:
                return None
            reasons.append(f"categorie '{category}'")
        if self._cis is not None:
            named = [v for v in self.rule.match.ci or () if v.casefold() in facts.ci_values]
            if not named:
                return None
            reasons.append(f"configuratie-item '{named[0]}'")
        if self._gemma is not None:
            gemma = facts.gemma_component
            if gemma is None or gemma.casefold() not in self._gemma:
                return None
            reasons.append(f"GEMMA-component {gemma}")
        found: tuple[str, ...] = ()
        if self._keywords is not None:
            found = tuple(k for k, folded in self._keywords if keyword_in(folded, facts.text))
            if not found:
                return None
            quoted = ", ".join(f"'{k}'" for k in found)
            word = "trefwoord" if len(found) == 1 else "trefwoorden"
            reasons.append(f"{word} {quoted} in titel of omschrijving")
        return RuleHit(self.rule, tuple(reasons), found)


class RuleSet:
    """The rules of a routing configuration, in evaluation (file) order."""

    __slots__ = ("rules", "triage_team")

    def __init__(self, routing: RoutingConfig) -> None:
        self.rules = tuple(CompiledRule(r) for r in routing.rules)
        self.triage_team = routing.triage_team

    def hits(self, facts: TicketFacts) -> Iterator[RuleHit]:
        """The rules that match, in order. The caller stops at the first effective ``stop``
        rule: whether a rule counts depends on its recipients resolving to anybody."""
        for rule in self.rules:
            hit = rule.match(facts)
            if hit is not None:
                yield hit


def _folded(values: list[str] | None) -> frozenset[str] | None:
    return frozenset(v.casefold() for v in values) if values else None


def check_references(config: SchakelConfig, cmdb: CiTable) -> list[str]:
    """Warnings about the rules and the CMDB, for start-up and reload.

    Errors (a rule naming an unknown supplier, gemeente or team) are the config's own checks
    and fail loading already; what can only be judged against the CMDB, which loads
    asynchronously and changes all the time, is a warning: a rule naming a CI the CMDB does
    not hold, a GEMMA component no CI and no team has, CIs naming gemeenten that are not
    configured or FB teams none of their gemeenten has.
    """
    warnings: list[str] = []
    components = {
        c.casefold() for g in config.gemeenten for t in g.teams for c in t.gemma_components
    }
    cmdb_components: set[str] = set()
    unknown_gemeenten: Counter[str] = Counter()
    unknown_teams: Counter[str] = Counter()
    known = {g.code: {t.id for t in g.teams} for g in config.gemeenten}
    for ci in cmdb:
        if ci.gemma_component:
            cmdb_components.add(ci.gemma_component.casefold())
        for code in ci.gemeenten:
            if code not in known:
                unknown_gemeenten[code] += 1
        if (
            ci.fb_team
            and ci.gemeenten
            and not any(ci.fb_team in known.get(code, ()) for code in ci.gemeenten)
        ):
            unknown_teams[ci.fb_team] += 1
    for rule in config.routing.rules:
        for value in rule.match.ci or ():
            if not cmdb.knows(value):
                warnings.append(
                    f"rule {rule.id!r} names CI {value!r}, which is not in the CMDB (yet): "
                    "it matches tickets that name it, but the CMDB cannot tell who owns it"
                )
        for value in rule.match.gemma_component or ():
            folded = value.casefold()
            if folded not in components and folded not in cmdb_components:
                warnings.append(
                    f"rule {rule.id!r} names GEMMA component {value!r}, which no team owns "
                    "and no CI in the CMDB has"
                )
        if any(r.gemeente == CI_OWNERS for r in rule.recipients) and not (
            rule.match.ci or rule.match.gemma_component
        ):
            warnings.append(
                f"rule {rule.id!r} sends to {CI_OWNERS!r} without matching on a CI or GEMMA "
                "component: tickets without a known CI fall through to the next rule"
            )
    for code, count in sorted(unknown_gemeenten.items()):
        warnings.append(
            f"{count} CI(s) in the CMDB name gemeente {code}, which is not configured: "
            "tickets on them do not go there"
        )
    for team, count in sorted(unknown_teams.items()):
        warnings.append(
            f"{count} CI(s) in the CMDB name FB team {team!r}, which none of their gemeenten "
            "has: their tickets go to the team owning the GEMMA component or the default team"
        )
    return warnings
