"""What a change affects: the CIs it names and, through the CMDB's relations, the CIs,
applications, gemeenten and FB teams that depend on them. Plain functions, no Kafka.

The CMDB is anything with the two queries of :class:`CiGraph`, which the hub's CI table
(``CiTable``: ``resolve`` and ``affected``) answers: the calendar follows relations by the
same rule as routing (dependents only, "runs on", "depends on", more than one hop, bounded),
so the teams that get a change's routed ticket are the teams that get its notices.

A change names one CI (``Change.ci``). When the CMDB does not know it, the CI still counts
as affected under the name the supplier gave (``ref:<supplier>:<name>``), so two changes of
one supplier on the same unknown CI still meet.

**Teams.** Per gemeente and affected CI: the CI's ``fb_team`` when that gemeente has such a
team, else the team owning the CI's GEMMA component, else the gemeente's default team.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from schemas import Change, CiRef, ConfigurationItem
from services.config import Gemeente

__all__ = ["NO_IMPACT", "AffectedCi", "CiGraph", "Impact", "impact_of"]

_APPLICATION_CLASSES = ("appl", "application", "app", "service", "saas")


class AffectedCi(Protocol):
    """A CI a change concerns: its own (``hops`` 0) or one depending on it via ``via``."""

    @property
    def ci(self) -> ConfigurationItem: ...

    @property
    def hops(self) -> int: ...

    @property
    def via(self) -> ConfigurationItem | None: ...


class CiGraph(Protocol):
    """The CMDB queries the calendar needs (the hub's ``CiTable`` has them)."""

    def resolve(self, supplier: str, ref: CiRef | None) -> ConfigurationItem | None: ...

    def affected(self, ci: ConfigurationItem) -> Sequence[AffectedCi]: ...


@dataclass(frozen=True, slots=True)
class Impact:
    """What one change affects. ``nodes`` are CI keys (hub ids; ``ref:...`` for a CI the
    CMDB does not know) with their names; ``paths`` says for a dependent CI through which
    CI it is reached (for explanations)."""

    nodes: Mapping[str, str]
    named: tuple[str, ...] = ()
    paths: Mapping[str, str] | None = None
    applications: tuple[str, ...] = ()
    gemeenten: tuple[str, ...] = ()
    #: (gemeente, team) pairs, sorted
    teams: tuple[tuple[str, str], ...] = ()

    def teams_of(self, gemeente: str) -> tuple[str, ...]:
        return tuple(team for code, team in self.teams if code == gemeente)

    def as_json(self) -> dict[str, object]:
        return {
            "cis": dict(self.nodes),
            "named": list(self.named),
            "paths": dict(self.paths or {}),
            "applications": list(self.applications),
            "gemeenten": list(self.gemeenten),
            "teams": [list(pair) for pair in self.teams],
        }


NO_IMPACT = Impact(nodes={})


def _unknown_key(supplier: str, ref: CiRef) -> tuple[str, str] | None:
    named = ref.name or ref.record_id
    if not named:
        return None
    return f"ref:{supplier}:{named.casefold()}", named


def _is_application(ci: ConfigurationItem) -> bool:
    if ci.gemma_component:
        return True
    kind = ci.ci_class.casefold()
    return any(part in kind for part in _APPLICATION_CLASSES)


def _team(gemeente: Gemeente, ci: ConfigurationItem) -> str:
    if ci.fb_team and any(t.id == ci.fb_team for t in gemeente.teams):
        return ci.fb_team
    return gemeente.responsible_team(ci.gemma_component).id


def impact_of(change: Change, graph: CiGraph, gemeenten: Mapping[str, Gemeente]) -> Impact:
    """Everything ``change`` affects according to ``graph``; gemeenten outside
    ``gemeenten`` (the configuration) are left out."""
    supplier = change.supplier_ref.supplier
    ref = change.ci
    if ref is None:
        return NO_IMPACT
    ci = graph.resolve(supplier, ref)
    if ci is None:
        unknown = _unknown_key(supplier, ref)
        if unknown is None:
            return NO_IMPACT
        return Impact(nodes={unknown[0]: unknown[1]}, named=(unknown[1],))
    nodes: dict[str, str] = {}
    paths: dict[str, str] = {}
    applications: list[str] = []
    codes: set[str] = set()
    teams: set[tuple[str, str]] = set()
    for affected in graph.affected(ci):
        item = affected.ci
        nodes[item.hub_id] = item.name
        if affected.hops > 0 and affected.via is not None:
            paths[item.hub_id] = affected.via.name
        if _is_application(item) and item.name not in applications:
            applications.append(item.name)
        for code in item.gemeenten:
            gemeente = gemeenten.get(code)
            if gemeente is None:
                continue
            codes.add(code)
            teams.add((code, _team(gemeente, item)))
    return Impact(
        nodes=nodes,
        named=(ci.name,),
        paths=paths,
        applications=tuple(applications),
        gemeenten=tuple(sorted(codes)),
        teams=tuple(sorted(teams)),
    )
