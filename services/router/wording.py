"""The router's explanations in words: Dutch, the language of the FB teams that read them.

Plain text functions, no decisions: :mod:`services.router.policy` decides and calls these to
say why. An explanation for one gemeente names no other gemeente (tenant isolation).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from schemas import CiRef, ConfigurationItem
from services.cmdb import Affected
from services.config import Gemeente
from services.router.rules import RuleHit

__all__ = [
    "TEAM_DEFAULT",
    "TEAM_NAMED_BY_RULE",
    "gemeente_text",
    "team_by_component",
    "team_by_fb_team",
    "team_default_instead_of",
    "triage_text",
]

_MAX_NAMED = 3  # dependent CIs named in an explanation before "en N andere"

#: why a team gets the ticket: the rule names it
TEAM_NAMED_BY_RULE = "het team dat de regel noemt"
#: why a team gets the ticket: nothing more specific is known
TEAM_DEFAULT = "standaardteam van de gemeente"


def team_by_fb_team(ci: ConfigurationItem) -> str:
    return f"beheert '{ci.name}' volgens de CMDB"


def team_by_component(component: str) -> str:
    return f"beheert de GEMMA-component {component}"


def team_default_instead_of(team: str) -> str:
    """The default team gets it: the rule named a team this gemeente does not have."""
    return f"standaardteam van de gemeente, die geen team {team} heeft"


def _rule_sentence(hit: RuleHit) -> str:
    rule = hit.rule
    return (
        f"Regel '{rule.id}' (\"{rule.description}\") is van toepassing: {', '.join(hit.reasons)}."
    )


def _ownership(gemeente: Gemeente, ci: ConfigurationItem | None, found: Sequence[Affected]) -> str:
    """Why the CMDB makes ``gemeente`` an owner, in one or two sentences."""
    if ci is None or not found:
        return ""
    sentences = []
    if any(a.hops == 0 for a in found):
        sentences.append(
            f"Volgens de CMDB gebruikt {gemeente.name} het configuratie-item '{ci.name}'."
        )
    dependents = [a for a in found if a.hops > 0]
    if dependents:
        names = []
        for a in dependents[:_MAX_NAMED]:
            via = f" (via '{a.via.name}')" if a.hops > 1 and a.via is not None else ""
            names.append(f"'{a.ci.name}'{via}")
        rest = len(dependents) - len(names)
        if rest:
            listed = ", ".join(names) + f" en {rest} andere"
        elif len(names) > 1:
            listed = ", ".join(names[:-1]) + f" en {names[-1]}"
        else:
            listed = names[0]
        verb = "is" if len(dependents) == 1 else "zijn"
        sentences.append(
            f"Volgens de CMDB {verb} {listed} van {gemeente.name} afhankelijk van "
            f"'{ci.name}', waar dit ticket over gaat."
        )
    return " ".join(sentences)


def gemeente_text(
    gemeente: Gemeente,
    hits: Sequence[RuleHit],
    teams: Mapping[str, str],
    ci: ConfigurationItem | None,
    found: Sequence[Affected],
    *,
    by_rule: bool,
) -> str:
    """The decision for one gemeente in words: the rules that sent it there (``by_rule``),
    else that the CMDB decided; why the CMDB makes it an owner; its ``teams`` with their
    reasons. Names no other gemeente."""
    parts = []
    if by_rule:
        parts += [_rule_sentence(hit) for hit in hits]
    else:
        parts.append(
            "Geen routeringsregel is van toepassing; de CMDB bepaalt wie dit ticket krijgt."
        )
    ownership = _ownership(gemeente, ci, found)
    if ownership:
        parts.append(ownership)
    listed = " en ".join(f"team {team} ({reason})" for team, reason in teams.items())
    parts.append(f"Daarom gaat het ticket naar {gemeente.name} ({gemeente.code}): {listed}.")
    return " ".join(parts)


def triage_text(ref: CiRef | None, ci: ConfigurationItem | None, team: str) -> str:
    """Why the ticket goes to the regie's triage queue (``team``)."""
    if ref is None or not (ref.record_id or ref.name):
        reason = "het ticket noemt geen configuratie-item"
    elif ci is None:
        named = ref.name or ref.record_id
        reason = f"configuratie-item '{named}' staat niet (eenduidig) in de CMDB"
    else:
        reason = (
            f"configuratie-item '{ci.name}' heeft in de CMDB geen eigenaar onder de "
            "aangesloten gemeenten"
        )
    return (
        f"Geen routeringsregel is van toepassing en {reason}. Daarom gaat het ticket naar de "
        f"triagewachtrij van de regie ({team}), die het aan de juiste gemeente toewijst."
    )
