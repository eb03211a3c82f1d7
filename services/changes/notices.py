"""Advance notices to the affected FB teams: which are due, and the routed events that carry
them. Plain functions, no Kafka.

Per change and affected gemeente (:mod:`services.changes.graph`), the teams hear:

* ``announced``: ``notice_days`` before the planned start (at once when it is planned
  closer than that), unless the window is already over;
* ``moved``: when the planned window differs from the one they last heard of;
* ``cancelled``: when a change they heard of is cancelled;
* ``implemented`` or ``failed``: when a change they heard of is finished (``failed`` when
  its close code says so).

A notice is a :class:`~schemas.RoutedTicket` (kind ``change``, the change as it is now,
decision basis :data:`~schemas.changes.NOTICE_BASIS` with the notice in words) on
``schakel.gemeente.<code>.v1``, keyed by the hub id: the delivery service brings it to the
teams' own channels with its guarantees (idempotency key per event and channel, order per
ticket, retries, dead letter). Its event id derives from the hub id, gemeente, kind and the
window it announces, so a notice made twice is delivered once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from schemas import Change, ChangeStatus, RecipientRef, RoutedTicket, RoutingDecision, derived_id
from schemas.changes import FINDINGS_SOURCE, NOTICE_BASIS, NoticeKind
from schemas.envelope import encode_event
from schemas.routing import ROUTED_DATASCHEMA
from schemas.topics import gemeente_topic
from schemas.wire import CLOUDEVENTS_JSON, CONTENT_TYPE, DESTINATION, EVENT_ID, HUB_ID, NOTICE
from services.changes.findings import Scheduled, failed, finished
from services.changes.text import change_label, gemeente_label, listing, span
from services.config import Gemeente, SchakelConfig
from services.messaging import OutboundMessage

__all__ = [
    "Notice",
    "NoticeHistory",
    "due_notices",
    "notice_message",
    "window_stamp",
]

_ROUTED_TYPE = "nl.itsm.change.routed.v1"
_ENDINGS: frozenset[str] = frozenset({"cancelled", "implemented", "failed"})


@dataclass(frozen=True, slots=True)
class Notice:
    """One notice to the teams of one gemeente about one change."""

    notice_id: str
    hub_id: str
    gemeente: str
    kind: NoticeKind
    stamp: str
    teams: tuple[str, ...]
    text: str


@dataclass(slots=True)
class NoticeHistory:
    """What the teams of one gemeente heard of one change so far."""

    stamp: str | None = None  # the window last announced (or moved to)
    endings: set[str] | None = None  # cancelled / implemented / failed sent


def window_stamp(change: Change) -> str:
    start, end = change.planned_start, change.planned_end
    return f"{start.isoformat() if start else '-'}/{end.isoformat() if end else '-'}"


def due_notices(
    item: Scheduled,
    history: Mapping[str, NoticeHistory],
    *,
    notice_days: int,
    now: datetime,
    gemeenten: Mapping[str, Gemeente],
    zone: ZoneInfo,
) -> list[Notice]:
    """The notices due for ``item`` at ``now``, given per gemeente what was sent
    (``history``)."""
    change = item.change
    notices: list[Notice] = []
    for code in item.impact.gemeenten:
        teams = item.impact.teams_of(code)
        if not teams:
            continue
        heard = history.get(code) or NoticeHistory()
        endings = heard.endings or set()
        kind: NoticeKind | None = None
        stamp = ""
        if heard.stamp is not None and not (endings & _ENDINGS):
            if change.status is ChangeStatus.CANCELLED:
                kind = "cancelled"
            elif finished(change):
                kind = "failed" if failed(change) else "implemented"
        if kind is None and change.status is not ChangeStatus.CANCELLED and not finished(change):
            window = item.window
            current = window_stamp(change)
            if window is not None and not endings:
                if heard.stamp is None:
                    if window[0] - timedelta(days=notice_days) <= now < window[1]:
                        kind, stamp = "announced", current
                elif heard.stamp != current:
                    kind, stamp = "moved", current
        if kind is None:
            continue
        notices.append(
            Notice(
                derived_id("change-notice", change.hub_id, code, kind, stamp),
                change.hub_id,
                code,
                kind,
                stamp,
                teams,
                _text(item, code, kind, gemeenten, zone),
            )
        )
    return notices


_HEAD: dict[str, str] = {
    "announced": "Aankondiging",
    "moved": "Verplaatst",
    "cancelled": "Geannuleerd",
    "implemented": "Uitgevoerd",
    "failed": "Mislukt",
}


def _text(
    item: Scheduled, code: str, kind: NoticeKind, gemeenten: Mapping[str, Gemeente], zone: ZoneInfo
) -> str:
    change = item.change
    window = item.window
    planned = span(window, zone) if window is not None else "zonder geplande tijd"
    label = change_label(change)
    what = {
        "announced": f"{label} staat gepland van {planned}.",
        "moved": f"{label} is verplaatst en staat nu gepland van {planned}.",
        "cancelled": f"{label} gaat niet door: de leverancier heeft hem geannuleerd.",
        "implemented": f"{label} is uitgevoerd.",
        "failed": f"{label} is mislukt (afsluitcode {change.close_code}).",
    }[kind]
    impact = item.impact
    reached = [name for name in impact.applications] or list(impact.named)
    affects = ""
    if reached:
        quoted = [f"'{name}'" for name in reached[:5]]
        rest = len(reached) - len(quoted)
        affects = (
            f" Volgens de CMDB raakt dit bij {gemeente_label(gemeenten, code)}: "
            f"{listing(quoted)}{f' en {rest} andere' if rest else ''}."
        )
    return f"{_HEAD[kind]}: {what}{affects}"


def notice_message(
    notice: Notice, change: Change, config: SchakelConfig, now: datetime
) -> OutboundMessage:
    """The routed event of ``notice`` for the gemeente's topic."""
    supplier = change.supplier_ref.supplier
    try:
        source = config.supplier(supplier).source_urn
    except LookupError:
        source = FINDINGS_SOURCE
    decision = RoutingDecision(
        hub_id=change.hub_id,
        event_id=notice.notice_id,
        rule_id=None,
        basis=NOTICE_BASIS,
        inputs={
            "kind": "change",
            "notice": notice.kind,
            "supplier": supplier,
            "planned_start": change.planned_start.isoformat() if change.planned_start else None,
            "planned_end": change.planned_end.isoformat() if change.planned_end else None,
        },
        recipients=tuple(RecipientRef(gemeente=notice.gemeente, team=t) for t in notice.teams),
        explanation=notice.text,
        decided_at=now,
    )
    value = encode_event(
        id=notice.notice_id,
        source=source,
        type=_ROUTED_TYPE,
        subject=change.hub_id,
        time=now,
        dataschema=ROUTED_DATASCHEMA,
        sequence=change.version,
        supplierid=supplier,
        data=RoutedTicket(kind="change", ticket=change, decision=decision),
    )
    hub = change.hub_id.encode()
    return OutboundMessage(
        topic=gemeente_topic(notice.gemeente),
        value=value,
        key=hub,
        headers=(
            (CONTENT_TYPE, CLOUDEVENTS_JSON),
            (EVENT_ID, notice.notice_id.encode()),
            (HUB_ID, hub),
            (DESTINATION, notice.gemeente.encode()),
            (NOTICE, notice.kind.encode()),
        ),
    )
