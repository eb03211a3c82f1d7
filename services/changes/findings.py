"""Findings in the schedule of change: collisions, blackouts, maintenance windows, emergency
changes, starts without approval and overruns. Plain functions over the schedule, no Kafka.

:func:`detect` recomputes every finding from the schedule as it is now; the calendar
(:mod:`services.changes.calendar`) compares the result with the findings it reported before
and raises what is new or changed and withdraws what went away. A finding's id derives from
its kind and what it is about (the hub ids, the gemeente, the blackout), so a finding found
again is the same finding.

**Collision.** Two scheduled changes collide when their planned windows overlap or lie less
than the margin apart (``max(starts) - min(ends) < margin``) and some configuration item is
affected by both (:mod:`services.changes.graph`). Cancelled changes and changes without a
planned window take no part; neither do changes that ended before the look-back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from schemas import Change, ChangeStatus, ChangeType, derived_id
from schemas.changes import FindingKind
from services.changes.graph import Impact
from services.changes.text import change_label, gemeente_label, listing, span, when
from services.changes.windows import blackouts_hit, in_maintenance_window
from services.config import Gemeente
from services.config.changes import ChangesConfig, MaintenanceWindow

__all__ = [
    "APPROVED",
    "Finding",
    "Scheduled",
    "approved",
    "collides",
    "collisions",
    "detect",
    "failed",
    "finished",
    "in_scope",
]

#: approval codes that allow a change to start (ServiceNow's stored codes)
APPROVED = frozenset({"approved", "not_required"})
_FINISHED = frozenset({ChangeStatus.REVIEW, ChangeStatus.CLOSED})
_APPROVED_STATUS = frozenset(
    {ChangeStatus.SCHEDULED, ChangeStatus.IMPLEMENT, ChangeStatus.REVIEW, ChangeStatus.CLOSED}
)
_FAILED_CODES = ("unsuccessful", "failed", "backed_out", "backed out", "rolled_back", "mislukt")
_DAYS = {"mon": "ma", "tue": "di", "wed": "wo", "thu": "do", "fri": "vr", "sat": "za", "sun": "zo"}
_MAX_NAMED = 3


@dataclass(frozen=True, slots=True)
class Scheduled:
    """A change in the schedule, with what it affects."""

    change: Change
    impact: Impact

    @property
    def hub_id(self) -> str:
        return self.change.hub_id

    @property
    def window(self) -> tuple[datetime, datetime] | None:
        """The planned window, when the change has a sound one."""
        start, end = self.change.planned_start, self.change.planned_end
        if start is None or end is None or end < start:
            return None
        return start, end


@dataclass(frozen=True, slots=True)
class Finding:
    """One finding as :func:`detect` made it (the calendar adds state and revision)."""

    finding_id: str
    kind: FindingKind
    changes: tuple[Change, ...]
    explanation: str
    gemeenten: tuple[str, ...] = ()
    cis: tuple[str, ...] = ()

    @property
    def fingerprint(self) -> str:
        """What makes a reported finding out of date when it changes."""
        return "|".join(
            [
                self.explanation,
                ",".join(self.gemeenten),
                ",".join(self.cis),
                *(f"{c.hub_id}@{c.version}" for c in self.changes),
            ]
        )


def collides(a: tuple[datetime, datetime], b: tuple[datetime, datetime], margin: timedelta) -> bool:
    """Whether two windows overlap or lie less than ``margin`` apart."""
    return max(a[0], b[0]) - min(a[1], b[1]) < margin


def collisions(
    items: Sequence[Scheduled], margin: timedelta
) -> list[tuple[Scheduled, Scheduled, tuple[str, ...]]]:
    """Every colliding pair with the CI keys where they meet, sorted; the pair's first
    change is the one that starts first (then by hub id).

    Per CI, a sweep over the windows of the changes affecting it, in start order: a change
    leaves the sweep once every later start is at least ``margin`` after its end, so only
    changes that share a CI and are near in time are compared.
    """
    timed = sorted(
        ((window, item) for item in items if (window := item.window) and item.impact.nodes),
        key=lambda pair: (pair[0][0], pair[1].hub_id),
    )
    by_node: dict[str, list[tuple[datetime, datetime, int]]] = {}
    for index, (window, item) in enumerate(timed):
        for key in item.impact.nodes:
            by_node.setdefault(key, []).append((window[0], window[1], index))
    pairs: set[tuple[int, int]] = set()
    for spans in by_node.values():
        if len(spans) < 2:
            continue
        active: list[tuple[datetime, datetime, int]] = []
        for start, end, index in spans:  # in start order: ``timed`` is
            active = [a for a in active if start - a[1] < margin]
            for other_start, other_end, other in active:
                if max(other_start, start) - min(other_end, end) < margin:
                    pairs.add((other, index))
            active.append((start, end, index))
    found = []
    for first, second in sorted(pairs):
        a, b = timed[first][1], timed[second][1]
        meet = a.impact.nodes.keys() & b.impact.nodes.keys()
        found.append((a, b, tuple(sorted(meet))))
    return found


def finished(change: Change) -> bool:
    return change.status in _FINISHED or change.actual_end is not None


def failed(change: Change) -> bool:
    """A finished change whose close code says it did not succeed."""
    code = (change.close_code or "").casefold()
    return any(code.startswith(bad) for bad in _FAILED_CODES)


def approved(change: Change) -> bool:
    """Standard changes are approved beforehand; otherwise the approval field decides, and
    where the tool has none, a status past authorisation."""
    if change.change_type is ChangeType.STANDARD:
        return True
    if change.approval is not None:
        return change.approval.casefold() in APPROVED
    return change.status in _APPROVED_STATUS


def in_scope(item: Scheduled, now: datetime, lookback: timedelta) -> bool:
    """Whether the change takes part in the checks: planned, not cancelled, not long over."""
    window = item.window
    if window is None or item.change.status is ChangeStatus.CANCELLED:
        return False
    return window[1] >= now - lookback or not finished(item.change)


def detect(
    items: Iterable[Scheduled],
    config: ChangesConfig,
    gemeenten: Mapping[str, Gemeente],
    now: datetime,
    *,
    cache: dict[tuple[object, ...], Finding] | None = None,
    stamp: object = None,
) -> dict[str, Finding]:
    """Every finding in the schedule ``items`` at ``now``, by finding id.

    ``cache`` (kept by the caller between calls) holds collision findings by the versions of
    both changes and ``stamp`` (what else the words depend on: the CMDB's version), so an
    unchanged collision is not written out again.
    """
    zone = ZoneInfo(config.timezone)
    lookback = timedelta(days=config.lookback_days)
    scope = [item for item in items if in_scope(item, now, lookback)]
    findings: dict[str, Finding] = {}

    def add(finding: Finding) -> None:
        findings[finding.finding_id] = finding

    margin = timedelta(minutes=config.margin_minutes)
    for a, b, meet in collisions(scope, margin):
        if cache is None:
            add(_collision(a, b, meet, margin, gemeenten, zone))
            continue
        key = (a.hub_id, a.change.version, b.hub_id, b.change.version, meet, stamp)
        made = cache.get(key)
        if made is None:
            made = cache[key] = _collision(a, b, meet, margin, gemeenten, zone)
        add(made)
    for item in scope:
        change = item.change
        window = item.window
        assert window is not None
        for code in item.impact.gemeenten:
            rules = config.gemeenten.get(code)
            if rules is None:
                continue
            gemeente = gemeente_label(gemeenten, code)
            for blackout in blackouts_hit(window[0], window[1], rules.blackouts, zone):
                add(
                    Finding(
                        derived_id(
                            "change-finding", "blackout", change.hub_id, code, blackout.name
                        ),
                        "blackout",
                        (change,),
                        f"{change_label(change)} ({span(window, zone)}) valt in de blackout "
                        f"'{blackout.name}' van {gemeente}: "
                        f"{blackout.start:%d-%m-%Y} t/m {blackout.end:%d-%m-%Y}. In die periode "
                        "zijn met de gemeente geen wijzigingen afgesproken.",
                        (code,),
                    )
                )
            if not in_maintenance_window(window[0], window[1], rules.maintenance_windows, zone):
                add(
                    Finding(
                        derived_id("change-finding", "maintenance", change.hub_id, code),
                        "outside_maintenance_window",
                        (change,),
                        f"{change_label(change)} ({span(window, zone)}) valt buiten de "
                        f"afgesproken onderhoudsvensters van {gemeente}: "
                        f"{_windows_text(rules.maintenance_windows)}.",
                        (code,),
                    )
                )
        affected = _affected_text(item, gemeenten)
        if change.change_type is ChangeType.EMERGENCY:
            add(
                Finding(
                    derived_id("change-finding", "emergency", change.hub_id),
                    "emergency",
                    (change,),
                    f"{change_label(change)} is een spoedwijziging (emergency change), gepland "
                    f"{span(window, zone)}; die gaat buiten de normale CAB-beoordeling om."
                    + affected,
                    item.impact.gemeenten,
                )
            )
        started = change.actual_start is not None or change.status is ChangeStatus.IMPLEMENT
        if not approved(change) and (started or window[0] <= now):
            verb = "is begonnen" if started else f"had moeten beginnen op {when(window[0], zone)}"
            add(
                Finding(
                    derived_id("change-finding", "unapproved", change.hub_id),
                    "unapproved_start",
                    (change,),
                    f"{change_label(change)} {verb} zonder goedkeuring (goedkeuring: "
                    f"{change.approval or 'onbekend'}, status: {change.status.value})." + affected,
                    item.impact.gemeenten,
                )
            )
        overrun = _overrun_text(change, window, now, zone)
        if overrun:
            add(
                Finding(
                    derived_id("change-finding", "overrun", change.hub_id),
                    "overrun",
                    (change,),
                    f"{change_label(change)} {overrun}" + affected,
                    item.impact.gemeenten,
                )
            )
    return findings


def _overrun_text(
    change: Change, window: tuple[datetime, datetime], now: datetime, zone: ZoneInfo
) -> str | None:
    planned = when(window[1], zone)
    if change.actual_end is not None:
        if change.actual_end > window[1]:
            return f"liep uit: gepland tot {planned}, afgerond om {when(change.actual_end, zone)}."
        return None
    started = change.actual_start is not None or change.status is ChangeStatus.IMPLEMENT
    if started and not finished(change) and now > window[1]:
        return f"loopt uit: gepland tot {planned} en om {when(now, zone)} nog niet afgerond."
    return None


def _windows_text(windows: Sequence[MaintenanceWindow]) -> str:
    parts = []
    for window in windows:
        days = ", ".join(_DAYS[d] for d in window.days)
        parts.append(f"{days} {window.start:%H:%M}-{window.end:%H:%M}")
    return "; ".join(parts) + " (Nederlandse tijd)"


def _affected_text(item: Scheduled, gemeenten: Mapping[str, Gemeente]) -> str:
    if not item.impact.gemeenten:
        return ""
    names = [gemeente_label(gemeenten, code) for code in item.impact.gemeenten]
    return f" Het raakt {listing(names)}."


def _reach(item: Scheduled, key: str) -> str:
    """How ``item`` reaches CI ``key``, in words."""
    impact = item.impact
    via = (impact.paths or {}).get(key)
    if via is None:
        return f"{change_label(item.change, short=True)} werkt er zelf aan"
    named = impact.named[0] if impact.named else "?"
    how = f"via '{via}' " if via != named else ""
    return (
        f"het hangt {how}af van '{named}', waar {change_label(item.change, short=True)} aan werkt"
    )


def _collision(
    a: Scheduled,
    b: Scheduled,
    meet: Sequence[str],
    margin: timedelta,
    gemeenten: Mapping[str, Gemeente],
    zone: ZoneInfo,
) -> Finding:
    wa, wb = a.window, b.window
    assert wa is not None and wb is not None
    overlap = max(wa[0], wb[0]) < min(wa[1], wb[1])
    if overlap:
        relation = "overlappen in tijd"
    else:
        minutes = int(margin.total_seconds() // 60)
        relation = f"liggen minder dan {minutes} minuten uit elkaar"
    names = a.impact.nodes
    shown = []
    for key in meet[:_MAX_NAMED]:
        shown.append(f"'{names[key]}' ({_reach(a, key)}; {_reach(b, key)})")
    rest = len(meet) - len(shown)
    where = listing(shown) + (f" en {rest} andere" if rest else "")
    codes = tuple(sorted(set(a.impact.gemeenten) | set(b.impact.gemeenten)))
    affected = ""
    if codes:
        affected = f" Dit raakt {listing([gemeente_label(gemeenten, c) for c in codes])}."
    text = (
        f"Botsing: {change_label(a.change)} ({span(wa, zone)}) en {change_label(b.change)} "
        f"({span(wb, zone)}) {relation} en raken dezelfde configuratie-items: {where}."
        f"{affected} Stem de volgorde af in de CAB of verplaats een van beide."
    )
    first, second = sorted((a.hub_id, b.hub_id))
    return Finding(
        derived_id("change-finding", "collision", first, second),
        "collision",
        (a.change, b.change),
        text,
        codes,
        tuple(names[key] for key in meet),
    )
