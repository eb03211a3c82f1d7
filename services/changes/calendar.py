"""The change calendar: the schedule of every supplier's changes, the findings reported about
it and the notices sent. Plain state and functions, no Kafka (the service feeds it).

One step of the calendar is *apply, evaluate, publish, commit*:

1. :meth:`ChangeCalendar.apply` takes a change event (only a newer version than the one held
   replaces it: a redelivered or stale event changes nothing);
2. :meth:`ChangeCalendar.evaluate` recomputes every finding (:func:`.findings.detect`) and
   every notice due (:func:`.notices.due_notices`) and compares them with what was reported:
   new or changed findings are *raised* (next revision), findings whose cause went away are
   *withdrawn*, due notices are made. Nothing in the calendar changes yet;
3. the caller publishes the messages and stores the rows, then :meth:`ChangeCalendar.commit`
   takes them as reported. When publishing fails nothing was committed, so the same
   evaluation (the same deterministic ids) is made again.

A finding about changes that all ended before the look-back is left as it is (history),
not withdrawn: its cause did not go away, it is merely over.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from schemas import Change, ChangeStatus
from schemas.changes import ChangeFinding, FindingChange, finding_event
from schemas.topics import CHANGE_FINDINGS
from schemas.wire import CLOUDEVENTS_JSON, CONTENT_TYPE, EVENT_ID
from services.changes.findings import Finding, Scheduled, detect, in_scope
from services.changes.graph import CiGraph, Impact, impact_of
from services.changes.notices import Notice, NoticeHistory, due_notices, notice_message
from services.changes.store import FindingRow, NoticeRow, ScheduleRow, StoreState
from services.changes.text import change_label, span
from services.config import Gemeente, SchakelConfig
from services.messaging import OutboundMessage

__all__ = ["ChangeCalendar", "Evaluation", "finding_change"]


def finding_change(change: Change) -> FindingChange:
    ref = change.supplier_ref
    return FindingChange(
        hub_id=change.hub_id,
        supplier=ref.supplier,
        number=ref.number,
        title=change.title,
        change_type=change.change_type,
        status=change.status,
        planned_start=change.planned_start,
        planned_end=change.planned_end,
    )


@dataclass(slots=True)
class Evaluation:
    """What one evaluation found: messages to publish, then rows to store."""

    messages: list[OutboundMessage] = field(default_factory=list)
    schedule: list[ScheduleRow] = field(default_factory=list)
    findings: list[FindingRow] = field(default_factory=list)
    notices: list[NoticeRow] = field(default_factory=list)
    raised: int = 0
    withdrawn: int = 0


class ChangeCalendar:
    """The schedule, findings and notices of the hub; ``graph`` is the CMDB to read."""

    def __init__(self, config: SchakelConfig, graph: CiGraph) -> None:
        self.config = config
        self.graph = graph
        self.zone = ZoneInfo(config.changes.timezone)
        self.gemeenten: Mapping[str, Gemeente] = {g.code: g for g in config.gemeenten}
        self.changes: dict[str, Change] = {}
        self.findings: dict[str, FindingRow] = {}
        self.history: dict[str, dict[str, NoticeHistory]] = {}
        self._stored_impact: dict[str, dict[str, object]] = {}
        self._dirty: set[str] = set()
        #: impacts by hub id: (change version, CMDB version, impact)
        self._impacts: dict[str, tuple[int, object, Impact]] = {}
        self._collisions: dict[tuple[object, ...], Finding] = {}

    # --- state ---------------------------------------------------------------------------

    def restore(self, state: StoreState) -> None:
        """Take what the store holds (at start)."""
        for row in state.schedule:
            self.changes[row.change.hub_id] = row.change
            self._stored_impact[row.change.hub_id] = row.impact
        for finding in state.findings:
            self.findings[finding.finding.finding_id] = finding
        for notice in state.notices:
            self._remember(notice)

    def apply(self, change: Change) -> bool:
        """Take ``change`` when it is newer than the version held; True when taken."""
        held = self.changes.get(change.hub_id)
        if held is not None and held.version >= change.version:
            return False
        self.changes[change.hub_id] = change
        self._dirty.add(change.hub_id)
        return True

    def scheduled(self, now: datetime | None = None) -> list[Scheduled]:
        """The changes held (at ``now``: those not long over, see :meth:`evaluate`), with
        what they affect according to the CMDB now."""
        lookback = timedelta(days=self.config.changes.lookback_days)
        return [
            Scheduled(change, self._impact(change))
            for change in self.changes.values()
            if now is None or change.hub_id in self._dirty or not _long_over(change, now, lookback)
        ]

    def impact(self, hub_id: str) -> Impact | None:
        change = self.changes.get(hub_id)
        return self._impact(change) if change is not None else None

    def _impact(self, change: Change) -> Impact:
        stamp = getattr(self.graph, "version", None)
        held = self._impacts.get(change.hub_id)
        if (
            held is not None
            and held[0] == change.version
            and held[1] == stamp
            and stamp is not None
        ):
            return held[2]
        impact = impact_of(change, self.graph, self.gemeenten)
        self._impacts[change.hub_id] = (change.version, stamp, impact)
        return impact

    # --- one step ------------------------------------------------------------------------

    def evaluate(self, now: datetime) -> Evaluation:
        """Findings to raise or withdraw and notices due at ``now``; changes nothing.

        Changes that ended (finished or cancelled) longer than the look-back ago take no
        part: their findings stay as they were reported, their notices were sent.
        """
        result = Evaluation()
        items = self.scheduled(now)
        for item in items:
            impact = item.impact.as_json()
            if item.hub_id in self._dirty or self._stored_impact.get(item.hub_id) != impact:
                result.schedule.append(ScheduleRow(item.change, impact))
        if len(self._collisions) > 200_000:
            self._collisions.clear()
        found = detect(
            items,
            self.config.changes,
            self.gemeenten,
            now,
            cache=self._collisions,
            stamp=getattr(self.graph, "version", None),
        )
        for finding_id, finding in sorted(found.items()):
            old = self.findings.get(finding_id)
            if old is not None and old.active and old.fingerprint == finding.fingerprint:
                continue
            revision = old.finding.revision + 1 if old is not None else 1
            self._report(result, finding, "raised", revision, finding.explanation, now)
            result.raised += 1
        lookback = timedelta(days=self.config.changes.lookback_days)
        by_id = {item.hub_id: item for item in items}
        for finding_id, old in sorted(self.findings.items()):
            if not old.active or finding_id in found:
                continue
            involved = [by_id.get(c.hub_id) for c in old.finding.changes]
            if all(i is None or _over(i, now, lookback) for i in involved):
                continue  # history: its changes are long over, the cause did not go away
            reason = self._withdrawal(old.finding, involved)
            current = Finding(
                finding_id,
                old.finding.kind,
                tuple(i.change for i in involved if i is not None),
                old.finding.explanation,
                old.finding.gemeenten,
                old.finding.cis,
            )
            text = f"Ingetrokken: {reason} Eerder gemeld: {old.finding.explanation}"
            self._report(result, current, "withdrawn", old.finding.revision + 1, text, now)
            result.withdrawn += 1
        days = self.config.changes.notice_days
        for item in items:
            for notice in due_notices(
                item,
                self.history.get(item.hub_id, {}),
                notice_days=days,
                now=now,
                gemeenten=self.gemeenten,
                zone=self.zone,
            ):
                result.messages.append(notice_message(notice, item.change, self.config, now))
                result.notices.append(_notice_row(notice, now))
        return result

    def commit(self, result: Evaluation) -> None:
        """Take an evaluation as published and stored."""
        for row in result.schedule:
            self._stored_impact[row.change.hub_id] = row.impact
            self._dirty.discard(row.change.hub_id)
        for finding in result.findings:
            self.findings[finding.finding.finding_id] = finding
        for notice in result.notices:
            self._remember(notice)

    # --- helpers -------------------------------------------------------------------------

    def _report(
        self,
        result: Evaluation,
        finding: Finding,
        state: str,
        revision: int,
        explanation: str,
        now: datetime,
    ) -> None:
        data = ChangeFinding(
            finding_id=finding.finding_id,
            kind=finding.kind,
            state="raised" if state == "raised" else "withdrawn",
            revision=revision,
            changes=tuple(finding_change(c) for c in finding.changes),
            gemeenten=finding.gemeenten,
            cis=finding.cis,
            explanation=explanation,
            detected_at=now,
        )
        event = finding_event(data)
        result.messages.append(
            OutboundMessage(
                topic=CHANGE_FINDINGS,
                value=event.model_dump_json().encode(),
                key=finding.finding_id.encode(),
                headers=(
                    (CONTENT_TYPE, CLOUDEVENTS_JSON),
                    (EVENT_ID, event.id.encode()),
                ),
            )
        )
        result.findings.append(FindingRow(data, finding.fingerprint))

    def _withdrawal(self, finding: ChangeFinding, involved: list[Scheduled | None]) -> str:
        reasons = []
        for before, item in zip(finding.changes, involved, strict=True):
            if item is None:
                continue
            change = item.change
            window = item.window
            if change.status is ChangeStatus.CANCELLED:
                reasons.append(f"{change_label(change)} is geannuleerd.")
            elif (change.planned_start, change.planned_end) != (
                before.planned_start,
                before.planned_end,
            ):
                moved = span(window, self.zone) if window is not None else "geen geplande tijd"
                reasons.append(f"{change_label(change)} is verplaatst naar {moved}.")
        if not reasons:
            reasons.append("de oorzaak is weggenomen (planning, goedkeuring of CMDB gewijzigd).")
        return " ".join(reasons)

    def _remember(self, notice: NoticeRow) -> None:
        heard = self.history.setdefault(notice.hub_id, {}).setdefault(
            notice.gemeente, NoticeHistory()
        )
        if notice.kind in ("announced", "moved"):
            heard.stamp = notice.stamp
        else:
            heard.endings = (heard.endings or set()) | {notice.kind}

    # --- views ---------------------------------------------------------------------------

    def state(self) -> StoreState:
        """The calendar as the store would hold it (for views without a store)."""
        items = self.scheduled()
        return StoreState(
            schedule=[ScheduleRow(i.change, i.impact.as_json()) for i in items],
            findings=list(self.findings.values()),
        )


def _over(item: Scheduled, now: datetime, lookback: timedelta) -> bool:
    return (
        item.window is not None
        and not in_scope(item, now, lookback)
        and (item.change.status is not ChangeStatus.CANCELLED)
    )


def _long_over(change: Change, now: datetime, lookback: timedelta) -> bool:
    """Ended (finished or cancelled) and planned to end before the look-back."""
    end = change.planned_end
    ended = change.status in (ChangeStatus.CANCELLED, ChangeStatus.REVIEW, ChangeStatus.CLOSED)
    return ended and end is not None and end < now - lookback


def _notice_row(notice: Notice, now: datetime) -> NoticeRow:
    return NoticeRow(
        notice.notice_id, notice.hub_id, notice.gemeente, notice.kind, notice.stamp, now
    )
