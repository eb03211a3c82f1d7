"""What ``schakel sla show | report | recompute`` print: plain functions over histories.

Every figure comes from the tickets' own event times: a report or a recompute evaluates each
ticket as of the newest ticket event the store holds (the stream's time), never as of the
moment the command runs, so a history replayed later gives the same figures.

- :func:`describe`: one ticket's clocks, with every pause, in words.
- :func:`ticket_lines` and :func:`summarise`: the month report, per ticket and per supplier
  and priority (tickets, met %, breaches, median and p90 resolution in business minutes,
  minutes paused).
- :func:`recompute`: replay every stored history since a date under the configured (or a
  what-if) contracts, store the result as a new run beside the earlier ones, and say what
  changed.
"""

from __future__ import annotations

import hashlib
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import orjson

from schemas.sla import SlaClock
from services.config import SchakelConfig
from services.sla.clocks import ClockResult, TicketHistory, hold_words
from services.sla.pipeline import SlaWatch
from services.sla.store import RunClock, SlaStore

__all__ = [
    "AMSTERDAM",
    "GroupLine",
    "Recomputed",
    "TicketLine",
    "contracts_digest",
    "describe",
    "month_bounds",
    "recompute",
    "summarise",
    "ticket_lines",
]

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

_DAYS = ("ma", "di", "wo", "do", "vr", "za", "zo")


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "-"
    local = moment.astimezone(AMSTERDAM)
    return f"{_DAYS[local.weekday()]} {local:%Y-%m-%d %H:%M:%S}"


def _minutes(seconds: float) -> str:
    minutes = seconds / 60
    text = f"{minutes:.0f}" if minutes == int(minutes) else f"{minutes:.2f}"
    return f"{text} min"


# -- show -------------------------------------------------------------------------------------


def describe(history: TicketHistory, results: dict[str, ClockResult], contract: str) -> list[str]:
    """One ticket's clocks in words: the target, every stretch running or paused (and why),
    every event, the verdict. Times in Europe/Amsterdam."""
    lines = [
        f"{history.entity.value} {history.number or '(no number)'} of {history.supplier} "
        f"(contract {contract}), hub id {history.hub_id}",
        f"opened {_when(history.opened_at)}; {len(history.observations)} ticket event(s), "
        f"the last {_when(history.last_at)}",
    ]
    if not results:
        lines.append("no SLA clocks: the contract sets no target for this ticket's priority")
    for name, result in results.items():
        target = result.target_seconds
        lines.append("")
        lines.append(
            f"{name} clock: {result.priority.value}, target {_minutes(target)} "
            f"in calendar {result.calendar}: {_verdict(result)}"
        )
        lines.append(
            f"  used {_minutes(result.business_seconds)} of business time "
            f"({result.business_seconds * 100 / target:.1f} %), "
            f"paused {_minutes(result.paused_seconds)}"
            + (f", due {_when(result.due_at)}" if result.due_at else "")
        )
        for seg in result.segments:
            lines.append("  " + _segment_words(seg.kind, seg.reason, seg.start, seg.end))
        for _, event in result.events:
            lines.append("  " + _event_words(event))
    return lines


def _verdict(result: ClockResult) -> str:
    if result.state.value == "cancelled":
        return "cancelled, no verdict"
    if result.met is True:
        return f"met (stopped {_when(result.stopped_at)})"
    if result.met is False:
        stopped = f", stopped {_when(result.stopped_at)}" if result.stopped_at else ", still open"
        return f"BREACHED{stopped}"
    return f"{result.state.value}, no verdict yet"


def _segment_words(kind: str, reason: str | None, start: datetime, end: datetime | None) -> str:
    span = f"{_when(start)} - {_when(end) if end else 'now'}"
    if end is None and kind != "running" and kind != "paused":
        span = f"from {_when(start)}"
    if kind == "running":
        return f"{span}  running" + (" (reopened)" if reason == "reopened" else "")
    if kind == "paused":
        return f"{span}  PAUSED: {hold_words(reason) or 'on hold'} (does not count)"
    if kind == "resolved":
        return f"{span}  resolved (does not count; a reopen resumes the clock)"
    if kind == "stopped":
        return f"{span}  stopped: the supplier responded"
    return f"{span}  cancelled"


def _event_words(event: object) -> str:
    from schemas.sla import SlaEvent

    assert isinstance(event, SlaEvent)
    what = event.event.value
    if event.threshold_percent is not None:
        what += f" {event.threshold_percent} %"
    if event.reason:
        what += f" ({event.reason})"
    if event.supplier_due_at is not None:
        what += (
            f": the supplier says due {_when(event.supplier_due_at)}, the contract "
            f"{_when(event.due_at)} ({event.difference_minutes:+.0f} min)"
        )
    return (
        f"event {_when(event.at)}  {what}: {event.business_minutes:g} of "
        f"{event.target_minutes} business minutes ({event.percent_used:g} %), "
        f"paused {event.paused_minutes:g}"
    )


# -- report -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TicketLine:
    hub_id: str
    supplier: str
    number: str | None
    priority: str
    opened_at: datetime
    response_business_minutes: float | None
    resolution_business_minutes: float | None
    paused_minutes: float
    response_met: bool | None
    resolution_met: bool | None

    def as_json(self) -> dict[str, object]:
        return {
            "hub_id": self.hub_id,
            "supplier": self.supplier,
            "number": self.number,
            "priority": self.priority,
            "opened_at": self.opened_at.isoformat(),
            "response_business_minutes": self.response_business_minutes,
            "resolution_business_minutes": self.resolution_business_minutes,
            "paused_minutes": self.paused_minutes,
            "response_met": self.response_met,
            "resolution_met": self.resolution_met,
        }


@dataclass(frozen=True, slots=True)
class GroupLine:
    supplier: str
    priority: str
    tickets: int
    met_percent: float | None
    breaches: int
    median_resolution_minutes: float | None
    p90_resolution_minutes: float | None
    paused_minutes: float

    def as_json(self) -> dict[str, object]:
        return {
            "supplier": self.supplier,
            "priority": self.priority,
            "tickets": self.tickets,
            "met_percent": self.met_percent,
            "breaches": self.breaches,
            "median_resolution_business_minutes": self.median_resolution_minutes,
            "p90_resolution_business_minutes": self.p90_resolution_minutes,
            "paused_minutes": self.paused_minutes,
        }


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """[first, next first) of ``YYYY-MM`` in Europe/Amsterdam."""
    year, number = (int(part) for part in month.split("-"))
    if not 1 <= number <= 12:
        raise ValueError(f"not a month: {month!r} (YYYY-MM)")
    start = datetime(year, number, 1, tzinfo=AMSTERDAM)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=AMSTERDAM)
    return start, end


def _round(seconds: int) -> float:
    return round(seconds / 60, 2)


def ticket_line(history: TicketHistory, results: dict[str, ClockResult]) -> TicketLine | None:
    resolution = results.get(SlaClock.RESOLUTION.value)
    response = results.get(SlaClock.RESPONSE.value)
    main = resolution or response
    if main is None:
        return None
    return TicketLine(
        hub_id=history.hub_id,
        supplier=history.supplier,
        number=history.number,
        priority=main.priority.value,
        opened_at=history.opened_at,
        response_business_minutes=_round(response.business_seconds) if response else None,
        resolution_business_minutes=_round(resolution.business_seconds) if resolution else None,
        paused_minutes=_round(resolution.paused_seconds) if resolution else 0.0,
        response_met=response.met if response else None,
        resolution_met=resolution.met if resolution else None,
    )


def ticket_lines(
    watch: SlaWatch, histories: Iterable[TicketHistory], as_of: datetime
) -> list[TicketLine]:
    lines = []
    for history in histories:
        line = ticket_line(history, watch.evaluate(history, as_of, events=False))
        if line is not None:
            lines.append(line)
    return lines


def _p90(values: Sequence[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * 90 // 100))  # nearest rank
    return ordered[rank - 1]


def summarise(lines: Iterable[TicketLine]) -> list[GroupLine]:
    """Per supplier and priority. Met % counts tickets with a resolution verdict (cancelled and
    running tickets within their target have none); breaches count resolution clocks that
    passed their target (also those still open); median and p90 are over resolved tickets."""
    groups: dict[tuple[str, str], list[TicketLine]] = {}
    for line in lines:
        groups.setdefault((line.supplier, line.priority), []).append(line)
    out = []
    for (supplier, priority), members in sorted(groups.items()):
        verdicts = [m.resolution_met for m in members if m.resolution_met is not None]
        resolved = [
            m.resolution_business_minutes
            for m in members
            if m.resolution_met is not None and m.resolution_business_minutes is not None
        ]
        out.append(
            GroupLine(
                supplier=supplier,
                priority=priority,
                tickets=len(members),
                met_percent=round(100 * sum(verdicts) / len(verdicts), 1) if verdicts else None,
                breaches=sum(1 for v in verdicts if v is False),
                median_resolution_minutes=round(statistics.median(resolved), 2)
                if resolved
                else None,
                p90_resolution_minutes=_p90(resolved),
                paused_minutes=round(sum(m.paused_minutes for m in members), 2),
            )
        )
    return out


# -- recompute --------------------------------------------------------------------------------


def contracts_digest(config: SchakelConfig) -> tuple[str, str]:
    """The contracts and calendars of a configuration as canonical JSON, and its SHA-256."""
    document = {
        "suppliers": {
            s.id: s.contract.model_dump(mode="json") if s.contract else None
            for s in config.suppliers
        },
        "sla": config.sla.model_dump(mode="json"),
    }
    text = orjson.dumps(document, option=orjson.OPT_SORT_KEYS).decode()
    return text, hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Recomputed:
    run: int
    previous: int | None
    clocks: list[RunClock]
    flips: list[tuple[RunClock, RunClock]]
    met_before: dict[str, float | None]
    met_after: dict[str, float | None]


def _run_clocks(history: TicketHistory, results: dict[str, ClockResult]) -> list[RunClock]:
    return [
        RunClock(
            hub_id=history.hub_id,
            clock=name,
            supplier=history.supplier,
            number=history.number,
            priority=result.priority.value,
            opened_at=history.opened_at,
            state=result.state.value,
            met=result.met,
            business_minutes=_round(result.business_seconds),
            paused_minutes=_round(result.paused_seconds),
            target_minutes=result.target_seconds // 60,
            calendar=result.calendar,
        )
        for name, result in results.items()
    ]


def _met_by_supplier(clocks: Iterable[RunClock]) -> dict[str, float | None]:
    verdicts: dict[str, list[bool]] = {}
    for clock in clocks:
        if clock.clock == SlaClock.RESOLUTION.value:
            bucket = verdicts.setdefault(clock.supplier, [])
            if clock.met is not None:
                bucket.append(clock.met)
    return {
        supplier: round(100 * sum(v) / len(v), 1) if v else None
        for supplier, v in sorted(verdicts.items())
    }


async def recompute(
    store: SlaStore,
    current: SlaWatch,
    what_if: SlaWatch,
    *,
    since: date,
    contracts: tuple[str, str],
    progress: Callable[[int], None] = lambda n: None,
) -> Recomputed:
    """Replay every stored ticket opened since ``since`` under ``what_if``'s contracts and
    store the result as a new run. "Before" is the newest earlier run, or, without one, the
    same histories under the ``current`` configuration (what the live service computes)."""
    start = datetime(since.year, since.month, since.day, tzinfo=AMSTERDAM)
    as_of = await store.newest_event() or start
    runs = await store.runs()
    previous = runs[-1].run if runs else None
    before: dict[tuple[str, str], RunClock] = {}
    if previous is not None:
        before = {(c.hub_id, c.clock): c for c in await store.run_clocks(previous)}
    after: list[RunClock] = []
    baseline: list[RunClock] = []
    async for batch in store.histories(since=start):
        for history in batch:
            after += _run_clocks(history, what_if.evaluate(history, as_of, events=False))
            if previous is None and what_if is not current:
                baseline += _run_clocks(history, current.evaluate(history, as_of, events=False))
        progress(len(batch))
    if previous is None:
        before = {(c.hub_id, c.clock): c for c in (after if what_if is current else baseline)}
    else:
        wanted = {c.hub_id for c in after}
        before = {k: v for k, v in before.items() if k[0] in wanted}
    flips = [
        (old, c)
        for c in after
        if (old := before.get((c.hub_id, c.clock))) is not None and old.met != c.met
    ]
    run = await store.add_run(
        since=start, contracts=contracts[0], digest=contracts[1], clocks=after
    )
    return Recomputed(
        run=run,
        previous=previous,
        clocks=after,
        flips=flips,
        met_before=_met_by_supplier(before.values()),
        met_after=_met_by_supplier(after),
    )
