"""The clock engine: a ticket's history in, its SLA clocks and their events out.

Plain functions over plain data; nothing here knows Kafka, a store or the wall clock. The
same :func:`evaluate` serves the live service (``now`` is the injectable clock), ``sla show``,
``sla report`` and ``sla recompute`` (``now`` is the time of the newest ticket event), so a
replay gives the same events, with the same ids, as the live service gave.

**Observations.** Every incident or change event is reduced to an :class:`Observation`: its
time (``updated_at``), version, a phase (``new``, ``open``, ``on_hold``, ``done``,
``cancelled``), the hold reason, the priority, and the supplier's own due times.

**The rules, the same for every supplier system** (contract-specific parts in
:class:`services.config.SlaRules`):

- Both clocks start when the ticket was opened (``opened_at``, else its first event).
- *Response* is the supplier's first reaction that the common model carries alike for
  ServiceNow, TOPdesk, Jira and Xurrent: the first event in which the ticket is no longer
  ``new`` (taken in progress, put on hold, resolved or closed). The response clock never
  pauses; it stops with a verdict at that moment.
- The *resolution* clock stops with a verdict when the ticket is resolved or closed (at
  ``resolved_at`` when the supplier gives it, else the event's time). It stands still while
  the ticket is on hold for a reason the contract names (default: waiting for the caller);
  on hold for any other reason (waiting for the supplier's own vendor) it runs on.
- A reopened ticket resumes its resolution clock where it stopped: the time it was resolved
  does not count; warnings already given are not given again; a new verdict follows.
- A cancelled ticket stops both clocks without a verdict.
- A priority change (rule ``current``): from that moment the new priority's target and
  calendar apply to the whole clock, measured from the start with the business time used so
  far; a threshold the clock is already past under the new target fires at the change.
  Rule ``initial``: the first priority holds.
- Warnings at the contract's percentages; the *breach* is the moment the business time used
  exceeds the target (a ticket resolved at exactly the target is met); *met* when the clock
  stops within the target, *stopped* when it stops after a breach.
- Business time is counted in whole seconds, in the calendar of the target: the contract's
  calendar (the version in force when the ticket opened) for ``business_hours`` targets,
  24x7 otherwise.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from schemas.envelope import derived_id
from schemas.sla import SlaClock, SlaEvent, SlaEventKind, SlaState
from schemas.tickets import Change, Incident
from schemas.vocab import ChangeStatus, EntityKind, IncidentStatus, Priority
from services.config import SlaConfig, SlaRules, SupplierContract
from services.sla.calendar import ALWAYS, BusinessCalendar, compile_calendar, from_ts, to_ts

__all__ = [
    "ClockResult",
    "Contract",
    "Observation",
    "Phase",
    "Segment",
    "TicketHistory",
    "Verdicts",
    "evaluate",
    "hold_words",
    "observe_change",
    "observe_incident",
    "sla_event_id",
]

Phase = Literal["new", "open", "on_hold", "done", "cancelled"]
SegmentKind = Literal["running", "paused", "resolved", "stopped", "cancelled"]

_ONE = timedelta(seconds=1)
_INCIDENT_PHASE: dict[IncidentStatus, Phase] = {
    IncidentStatus.NEW: "new",
    IncidentStatus.IN_PROGRESS: "open",
    IncidentStatus.ON_HOLD: "on_hold",
    IncidentStatus.RESOLVED: "done",
    IncidentStatus.CLOSED: "done",
    IncidentStatus.CANCELLED: "cancelled",
}
_CHANGE_PHASE: dict[ChangeStatus, Phase] = {
    ChangeStatus.NEW: "new",
    ChangeStatus.ASSESS: "open",
    ChangeStatus.AUTHORIZE: "open",
    ChangeStatus.SCHEDULED: "open",
    ChangeStatus.IMPLEMENT: "open",
    ChangeStatus.REVIEW: "done",
    ChangeStatus.CLOSED: "done",
    ChangeStatus.CANCELLED: "cancelled",
}
_HOLD_WORDS = {
    "awaiting_caller": "waiting for the caller",
    "awaiting_supplier": "waiting for the supplier's vendor",
    "awaiting_problem": "waiting for a problem",
    "awaiting_change": "waiting for a change",
    "other": "on hold",
    "change_on_hold": "change on hold",
}


@dataclass(frozen=True, slots=True)
class Observation:
    """One ticket event, reduced to what the clocks read."""

    at: datetime
    version: int
    phase: Phase
    hold: str | None = None
    priority: Priority | None = None
    done_at: datetime | None = None
    response_due: datetime | None = None
    resolve_due: datetime | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "at": self.at.isoformat(),
            "v": self.version,
            "p": self.phase,
            "h": self.hold,
            "pr": self.priority.value if self.priority else None,
            "d": self.done_at.isoformat() if self.done_at else None,
            "rd": self.response_due.isoformat() if self.response_due else None,
            "sd": self.resolve_due.isoformat() if self.resolve_due else None,
        }

    @classmethod
    def from_json(cls, doc: dict[str, object]) -> Observation:
        def when(key: str) -> datetime | None:
            value = doc.get(key)
            return datetime.fromisoformat(str(value)) if value else None

        at = when("at")
        assert at is not None
        priority = doc.get("pr")
        return cls(
            at=at,
            version=int(str(doc["v"])),
            phase=str(doc["p"]),  # type: ignore[arg-type]
            hold=str(doc["h"]) if doc.get("h") else None,
            priority=Priority(str(priority)) if priority else None,
            done_at=when("d"),
            response_due=when("rd"),
            resolve_due=when("sd"),
        )


def observe_incident(incident: Incident) -> Observation:
    phase = _INCIDENT_PHASE[incident.status]
    done_at = None
    if phase == "done":
        done_at = incident.resolved_at or incident.closed_at
    return Observation(
        at=incident.updated_at,
        version=incident.version,
        phase=phase,
        hold=incident.hold_reason.value if incident.hold_reason else None,
        priority=incident.priority,
        done_at=done_at,
        response_due=incident.response_due_at,
        resolve_due=incident.resolve_due_at,
    )


def observe_change(change: Change) -> Observation:
    phase = _CHANGE_PHASE[change.status]
    if phase == "open" and change.on_hold:
        phase = "on_hold"
    return Observation(
        at=change.updated_at,
        version=change.version,
        phase=phase,
        hold="change_on_hold" if phase == "on_hold" else None,
        priority=change.priority,
        done_at=change.actual_end if phase == "done" else None,
    )


@dataclass(slots=True)
class TicketHistory:
    """Everything the clocks of one ticket are computed from."""

    hub_id: str
    entity: EntityKind
    supplier: str
    number: str | None
    opened_at: datetime
    observations: list[Observation] = field(default_factory=list)

    def add(self, observation: Observation) -> bool:
        """Add an observation in order; False when this version was seen already."""
        if any(o.version == observation.version for o in self.observations):
            return False
        self.observations.append(observation)
        self.observations.sort(key=lambda o: (o.at, o.version))
        return True

    @property
    def last_at(self) -> datetime:
        return self.observations[-1].at if self.observations else self.opened_at


@dataclass(frozen=True)
class Contract:
    """A supplier contract with the hub's calendars: the target and calendar per priority."""

    contract: SupplierContract
    sla: SlaConfig

    @property
    def rules(self) -> SlaRules:
        return self.contract.rules

    def target(
        self, entity: EntityKind, clock: SlaClock, priority: Priority, opened: datetime
    ) -> tuple[int, BusinessCalendar] | None:
        """The target in seconds and the calendar it counts in, or None without a target."""
        if entity is EntityKind.CHANGE:
            found = self.contract.change_target(priority.value)  # type: ignore[arg-type]
        else:
            found = self.contract.target(priority.value)  # type: ignore[arg-type]
        if found is None:
            return None
        minutes = found.response_minutes if clock is SlaClock.RESPONSE else found.resolve_minutes
        calendar = ALWAYS
        if found.business_hours:
            calendar = compile_calendar(self.sla.calendar(self.contract.calendar), opened)
        return minutes * 60, calendar


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of a clock's life: running, paused (with the reason), resolved (waiting for
    a possible reopen), stopped or cancelled (final). ``end`` None: up to now."""

    start: datetime
    end: datetime | None
    kind: SegmentKind
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Verdicts:
    met: bool | None
    breached: bool


@dataclass
class ClockResult:
    """One clock of one ticket as of ``as_of``."""

    clock: SlaClock
    state: SlaState
    priority: Priority
    target_seconds: int
    calendar: str
    business_seconds: int
    paused_seconds: int
    met: bool | None
    stopped_at: datetime | None
    due_at: datetime | None
    segments: list[Segment]
    events: list[tuple[str, SlaEvent]]
    next_due: datetime | None


def sla_event_id(hub_id: str, clock: SlaClock, kind: SlaEventKind, key: str) -> str:
    """The deterministic CloudEvent id of one SLA event."""
    return derived_id("sla", hub_id, clock.value, kind.value, key)


# -- the sweep ------------------------------------------------------------------------------


def _segments(
    history: TicketHistory, clock: SlaClock, rules: SlaRules
) -> tuple[list[Segment], datetime]:
    """The clock's segments from the history, and its start."""
    start = history.opened_at
    segments: list[Segment] = []
    kind: SegmentKind = "running"
    reason: str | None = None
    since = start
    pausing = set(rules.pause_hold_reasons)

    def close(at: datetime, new_kind: SegmentKind, new_reason: str | None) -> None:
        nonlocal kind, reason, since
        if new_kind == kind and new_reason == reason:
            return
        at = max(at, since)
        if at > since or segments or kind != "running":
            segments.append(Segment(since, at, kind, reason))
        kind, reason, since = new_kind, new_reason, at

    for obs in history.observations:
        if kind in ("stopped", "cancelled"):
            break
        if obs.phase == "cancelled":
            close(obs.at, "cancelled", None)
            continue
        if clock is SlaClock.RESPONSE:
            if obs.phase != "new":
                close(obs.done_at or obs.at if obs.phase == "done" else obs.at, "stopped", None)
            continue
        if obs.phase == "done":
            if kind != "resolved":
                close(obs.done_at or obs.at, "resolved", None)
            continue
        reopened = kind == "resolved"
        if obs.phase == "on_hold":
            is_change = history.entity is EntityKind.CHANGE
            pauses = rules.pause_change_on_hold if is_change else obs.hold in pausing
            if pauses:
                close(obs.at, "paused", obs.hold)
                continue
        close(obs.at, "running", "reopened" if reopened else None)
    segments.append(Segment(since, None, kind, reason))
    return segments, start


def _priorities(history: TicketHistory, rules: SlaRules) -> list[tuple[datetime, Priority]]:
    """(from, priority) periods; the first starts at the opening."""
    periods: list[tuple[datetime, Priority]] = []
    for obs in history.observations:
        if obs.priority is None:
            continue
        if not periods:
            periods.append((history.opened_at, obs.priority))
            if rules.priority_change == "initial":
                break
        elif obs.priority != periods[-1][1]:
            periods.append((obs.at, obs.priority))
    return periods


class _Measure:
    """Business time of one clock's segments in one calendar.

    The business seconds of every closed segment are computed once (per kind, with running
    totals), so a threshold's crossing or the time used at a moment costs one calendar call.
    """

    __slots__ = ("_closed", "_ends", "_kinds", "_starts", "_totals", "calendar", "segments")

    def __init__(self, segments: Sequence[Segment], calendar: BusinessCalendar) -> None:
        self.segments = segments
        self.calendar = calendar
        self._starts = [to_ts(seg.start) for seg in segments]
        self._ends = [None if seg.end is None else to_ts(seg.end) for seg in segments]
        self._kinds = [seg.kind for seg in segments]
        seconds = calendar.seconds_ts
        #: business seconds of each closed segment; totals[kind][i]: before segment i
        self._closed = [
            0 if end is None else seconds(start, end)
            for start, end in zip(self._starts, self._ends, strict=True)
        ]
        self._totals: dict[str, list[int]] = {}
        for kind in ("running", "paused"):
            running, total = [], 0
            for k, got in zip(self._kinds, self._closed, strict=True):
                running.append(total)
                if k == kind:
                    total += got
            self._totals[kind] = running

    def used(self, at: datetime, kind: SegmentKind = "running") -> int:
        """Business seconds spent in segments of ``kind`` before ``at``."""
        moment = to_ts(at)
        starts = self._starts
        i = bisect.bisect_right(starts, moment) - 1
        if i < 0:
            return 0
        total = self._totals[kind][i]
        if self._kinds[i] == kind:
            end = self._ends[i]
            total += self.calendar.seconds_ts(
                starts[i], moment if end is None else min(end, moment)
            )
        return total

    def crossing(self, need: int) -> datetime | None:
        """The first moment the running segments hold ``need`` seconds, or None if never
        (the clock stopped before)."""
        totals = self._totals["running"]
        for i, kind in enumerate(self._kinds):
            if kind != "running":
                continue
            before = totals[i]
            if self._ends[i] is None or before + self._closed[i] >= need:
                return from_ts(self.calendar.add_ts(self._starts[i], need - before))
        return None

    def due_from(self, at: datetime, target: int) -> datetime:
        """When ``target`` is reached if the clock runs on from ``at``."""
        return self.calendar.add(at, max(0, target - self.used(at)))


def _kind_at(segments: Sequence[Segment], at: datetime) -> SegmentKind:
    for seg in segments:
        if seg.start <= at and (seg.end is None or at < seg.end):
            return seg.kind
    return segments[-1].kind


def _state(kind: SlaEventKind, run_kind: SegmentKind, over: bool) -> SlaState:
    if kind is SlaEventKind.MET:
        return SlaState.MET
    if kind in (SlaEventKind.STOPPED, SlaEventKind.BREACHED):
        return SlaState.BREACHED
    if kind is SlaEventKind.CANCELLED:
        return SlaState.CANCELLED
    if kind is SlaEventKind.PAUSED or run_kind == "paused":
        return SlaState.PAUSED
    return SlaState.BREACHED if over else SlaState.RUNNING


def hold_words(reason: object) -> str | None:
    """A hold reason (or 'reopened') in words."""
    if reason is None:
        return None
    return _HOLD_WORDS.get(str(reason), str(reason))


def _version_at(history: TicketHistory, at: datetime) -> int:
    version = history.observations[0].version if history.observations else 0
    for obs in history.observations:
        if obs.at > at:
            break
        version = obs.version
    return version


def evaluate(
    history: TicketHistory,
    contract: Contract,
    now: datetime,
    *,
    skip: Collection[str] = frozenset(),
    events: bool = True,
) -> dict[SlaClock, ClockResult]:
    """Both clocks of a ticket as of ``now`` (events at or before ``now`` only); a clock
    whose priorities have no target in the contract is left out. Events whose id is in
    ``skip`` are not built (published already); ``events=False`` builds none (reports)."""
    results: dict[SlaClock, ClockResult] = {}
    periods = _priorities(history, contract.rules)
    if not periods:
        return results
    for clock in SlaClock:
        result = _evaluate_clock(history, contract, clock, periods, now, skip, events)
        if result is not None:
            results[clock] = result
    return results


_Target = tuple[datetime, datetime | None, Priority, int, BusinessCalendar]
_Pending = tuple[datetime, int, SlaEventKind, str, dict[str, object]]


def _targets(
    history: TicketHistory,
    contract: Contract,
    clock: SlaClock,
    periods: list[tuple[datetime, Priority]],
    start: datetime,
) -> list[_Target]:
    targets: list[_Target] = []
    for i, (since, priority) in enumerate(periods):
        found = contract.target(history.entity, clock, priority, history.opened_at)
        if found is None:
            continue
        until = periods[i + 1][0] if i + 1 < len(periods) else None
        targets.append((since, until, priority, found[0], found[1]))
    if targets:  # the first period with a target begins at the clock's start
        _, until, priority, seconds, calendar = targets[0]
        targets[0] = (start, until, priority, seconds, calendar)
    return targets


def _transitions(segments: Sequence[Segment], add: Callable[..., None]) -> None:
    """started, paused, resumed, met (or stopped), cancelled: one per segment boundary."""
    epoch = 0
    add(segments[0].start, 0, SlaEventKind.STARTED, "")
    for seg in segments[1:]:
        if seg.kind == "paused":
            add(seg.start, 1, SlaEventKind.PAUSED, seg.start.isoformat(), reason=seg.reason)
        elif seg.kind == "running":
            add(seg.start, 1, SlaEventKind.RESUMED, seg.start.isoformat(), reason=seg.reason)
        elif seg.kind in ("resolved", "stopped"):
            add(seg.start, 1, SlaEventKind.MET, str(epoch))
            epoch += 1
        elif seg.kind == "cancelled":
            add(seg.start, 1, SlaEventKind.CANCELLED, "")


def _thresholds(
    segments: Sequence[Segment],
    measure_for: Callable[[BusinessCalendar], _Measure],
    targets: Sequence[_Target],
    rules: SlaRules,
    now: datetime,
    add: Callable[..., None],
) -> datetime | None:
    """Warnings and the breach up to ``now``; returns the next one after ``now``."""
    given: set[str] = set()
    next_due: datetime | None = None
    for since, until, priority, target, calendar in targets:
        measure = measure_for(calendar)
        for percent in (*rules.warning_percents, 100):
            breach = percent == 100
            key = f"{priority.value}|{percent}"
            need = target if breach else math.ceil(target * percent / 100)
            # the moment the clock holds ``need`` and runs on: a clock that stops exactly
            # at its target (or at a threshold) has not passed it
            moment = measure.crossing(need + 1)
            if moment is None:
                continue
            moment -= _ONE
            if moment < since:
                moment = since
                if _kind_at(segments, moment) not in ("running", "paused"):
                    continue
            if until is not None and moment >= until:
                continue
            if moment > now:
                next_due = moment if next_due is None else min(next_due, moment)
                continue
            if key in given:
                continue
            given.add(key)
            kind = SlaEventKind.BREACHED if breach else SlaEventKind.WARNING
            add(moment, 3 if breach else 2, kind, key, threshold=None if breach else percent)
    return next_due


def _discrepancies(
    history: TicketHistory,
    clock: SlaClock,
    segments: Sequence[Segment],
    measure_for: Callable[[BusinessCalendar], _Measure],
    targets: Sequence[_Target],
    rules: SlaRules,
    add: Callable[..., None],
) -> None:
    """The supplier's own due time against the contract's, each time the supplier's changes,
    while the clock runs; published when further apart than the contract's tolerance."""
    tolerance = rules.discrepancy_tolerance_minutes
    previous: datetime | None = None
    for obs in history.observations:
        theirs = obs.response_due if clock is SlaClock.RESPONSE else obs.resolve_due
        if theirs is None or theirs == previous:
            continue
        previous = theirs
        if _kind_at(segments, obs.at) != "running":
            continue
        _, _, _, target, calendar = _target_at(targets, obs.at)
        ours = measure_for(calendar).due_from(obs.at, target)
        difference = (theirs - ours).total_seconds() / 60
        if abs(difference) > tolerance:
            add(
                obs.at,
                4,
                SlaEventKind.DISCREPANCY,
                theirs.isoformat(),
                supplier_due=theirs,
                difference=round(difference, 2),
            )


def _target_at(targets: Sequence[_Target], at: datetime) -> _Target:
    chosen = targets[0]
    for target in targets:
        if target[0] <= at:
            chosen = target
    return chosen


def _evaluate_clock(
    history: TicketHistory,
    contract: Contract,
    clock: SlaClock,
    periods: list[tuple[datetime, Priority]],
    now: datetime,
    skip: Collection[str],
    build: bool,
) -> ClockResult | None:
    rules = contract.rules
    segments, start = _segments(history, clock, rules)
    targets = _targets(history, contract, clock, periods, start)
    if not targets:
        return None
    measures: dict[int, _Measure] = {}

    def measure_for(calendar: BusinessCalendar) -> _Measure:
        found = measures.get(id(calendar))
        if found is None:
            found = measures[id(calendar)] = _Measure(segments, calendar)
        return found

    pending: list[_Pending] = []

    def add(at: datetime, rank: int, kind: SlaEventKind, key: str, **extra: object) -> None:
        if at <= now:
            pending.append((at, rank, kind, key, extra))

    next_due: datetime | None = None
    if build:  # a report needs the clock's state, not its events
        _transitions(segments, add)
        next_due = _thresholds(segments, measure_for, targets, rules, now, add)
        _discrepancies(history, clock, segments, measure_for, targets, rules, add)
    pending.sort(key=lambda p: (p[0], p[1]))

    events: list[tuple[str, SlaEvent]] = []
    for at, _rank, kind, key, extra in pending if build else ():
        # met and stopped share an id: which one it is depends on the target at the stop
        event_id = sla_event_id(history.hub_id, clock, kind, key)
        if event_id in skip:
            continue
        _, _, priority, target, calendar = _target_at(targets, at)
        measure = measure_for(calendar)
        used = measure.used(at)
        run_kind = _kind_at(segments, at)
        if kind is SlaEventKind.MET and used > target:
            kind = SlaEventKind.STOPPED
        state = _state(kind, run_kind, used > target)
        due = None
        if run_kind == "running" and kind not in _FINAL:
            due = measure.due_from(at, target)
        event = SlaEvent(
            hub_id=history.hub_id,
            entity=history.entity,
            supplier=history.supplier,
            number=history.number,
            contract=contract.contract.name,
            clock=clock,
            event=kind,
            state=state,
            at=at,
            priority=priority,
            calendar=calendar.label,
            target_minutes=target // 60,
            business_minutes=round(used / 60, 2),
            paused_minutes=round(measure.used(at, "paused") / 60, 2),
            percent_used=round(used * 100 / target, 2),
            due_at=due,
            threshold_percent=extra.get("threshold"),  # type: ignore[arg-type]
            reason=hold_words(extra.get("reason")),
            supplier_due_at=extra.get("supplier_due"),  # type: ignore[arg-type]
            difference_minutes=extra.get("difference"),  # type: ignore[arg-type]
            ticket_version=_version_at(history, at),
        )
        events.append((event_id, event))

    _, _, priority, target, calendar = _target_at(targets, now)
    measure = measure_for(calendar)
    last = segments[-1]
    stopped_at = last.start if last.kind in ("resolved", "stopped", "cancelled") else None
    end = stopped_at if stopped_at is not None and stopped_at <= now else now
    used = measure.used(end)
    run_kind = _kind_at(segments, now)
    met: bool | None
    if stopped_at is not None and stopped_at <= now:
        if last.kind == "cancelled":
            met, state = None, SlaState.CANCELLED
        else:
            met = used <= target
            state = SlaState.MET if met else SlaState.BREACHED
    elif used > target:
        met, state = False, SlaState.BREACHED
    else:
        met = None
        state = SlaState.PAUSED if run_kind == "paused" else SlaState.RUNNING
    due = measure.due_from(now, target) if met is None and run_kind == "running" else None
    return ClockResult(
        clock=clock,
        state=state,
        priority=priority,
        target_seconds=target,
        calendar=calendar.label,
        business_seconds=used,
        paused_seconds=measure.used(end, "paused"),
        met=met,
        stopped_at=stopped_at,
        due_at=due,
        segments=segments,
        events=events,
        next_due=next_due,
    )


_FINAL = (SlaEventKind.MET, SlaEventKind.STOPPED, SlaEventKind.CANCELLED)
