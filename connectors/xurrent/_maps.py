"""Xurrent's (4me's) default lookup tables, keyed by the API codes.

Xurrent sends fixed codes (``waiting_for_customer``, ``top``, ``withdrawn``), not site labels,
so these tables hold codes only; a supplier overrides or extends any of them in its
``value_maps`` under the table's name.

Decisions (see the connector's module docstring for the reasoning):

- ``category``: incident and complaint become an Incident, rfc a Change; every other category
  (rfi, fulfillment, order, ...) is not routed unless a supplier maps it.
- ``status``: assigned is NEW (nobody took it yet: the response clock runs), accepted and
  in_progress are IN_PROGRESS; every *pending/waiting* status is ON_HOLD with the hold reason
  from ``hold_reason``; declined is CANCELLED; completed is RESOLVED, or CANCELLED when
  ``completion_status`` says the completion reason means "not done" (withdrawn, rejected,
  declined, duplicate, conflict).
- ``impact``: top and high are both HIGH; ``urgency`` gives the urgency of a request that is
  *not* marked urgent, so that top/high/medium/low give P1/P2/P3/P4 and ``urgent`` (urgency
  HIGH) raises a request one step.
"""

from __future__ import annotations

from schemas import (
    ChangeStatus,
    CiStatus,
    EntityKind,
    HoldReason,
    Impact,
    IncidentStatus,
    ResolutionCode,
    Urgency,
)

__all__ = [
    "CATEGORY",
    "CHANGE_ON_HOLD",
    "CHANGE_STATUS",
    "CI_STATUS",
    "COMPLETION_STATUS",
    "HOLD_REASON",
    "IMPACT",
    "RESOLUTION",
    "STATUS",
    "URGENCY",
    "truth",
]

#: Request category -> the entity it becomes.
CATEGORY: dict[str, EntityKind] = {
    "incident": EntityKind.INCIDENT,
    "complaint": EntityKind.INCIDENT,
    "rfc": EntityKind.CHANGE,
}

#: Request status -> incident status.
STATUS: dict[str, IncidentStatus] = {
    "assigned": IncidentStatus.NEW,
    "accepted": IncidentStatus.IN_PROGRESS,
    "in_progress": IncidentStatus.IN_PROGRESS,
    "waiting_for": IncidentStatus.ON_HOLD,
    "waiting_for_customer": IncidentStatus.ON_HOLD,
    "reservation_pending": IncidentStatus.ON_HOLD,
    "workflow_pending": IncidentStatus.ON_HOLD,
    "project_pending": IncidentStatus.ON_HOLD,
    "on_backlog": IncidentStatus.ON_HOLD,
    "declined": IncidentStatus.CANCELLED,
    "completed": IncidentStatus.RESOLVED,
}

#: Request status (an on-hold one) -> why the clock stopped.
HOLD_REASON: dict[str, HoldReason] = {
    "waiting_for": HoldReason.OTHER,
    "waiting_for_customer": HoldReason.AWAITING_CALLER,
    "reservation_pending": HoldReason.OTHER,
    "workflow_pending": HoldReason.AWAITING_CHANGE,
    "project_pending": HoldReason.AWAITING_CHANGE,
    "on_backlog": HoldReason.OTHER,
}

#: completion_reason -> the status a *completed* request gets (RESOLVED unless listed here).
COMPLETION_STATUS: dict[str, IncidentStatus] = {
    "solved": IncidentStatus.RESOLVED,
    "workaround": IncidentStatus.RESOLVED,
    "gone": IncidentStatus.RESOLVED,
    "no_reply": IncidentStatus.RESOLVED,
    "unsolvable": IncidentStatus.RESOLVED,
    "duplicate": IncidentStatus.CANCELLED,
    "withdrawn": IncidentStatus.CANCELLED,
    "rejected": IncidentStatus.CANCELLED,
    "conflict": IncidentStatus.CANCELLED,
    "declined": IncidentStatus.CANCELLED,
}

#: completion_reason -> resolution code.
RESOLUTION: dict[str, ResolutionCode] = {
    "solved": ResolutionCode.SOLVED,
    "workaround": ResolutionCode.WORKAROUND,
    "gone": ResolutionCode.NOT_REPRODUCIBLE,
    "duplicate": ResolutionCode.DUPLICATE,
    "withdrawn": ResolutionCode.WITHDRAWN,
    "no_reply": ResolutionCode.OTHER,
    "rejected": ResolutionCode.OTHER,
    "conflict": ResolutionCode.OTHER,
    "declined": ResolutionCode.OTHER,
    "unsolvable": ResolutionCode.NOT_SOLVED,
}

IMPACT: dict[str, Impact] = {
    "top": Impact.HIGH,
    "high": Impact.HIGH,
    "medium": Impact.MEDIUM,
    "low": Impact.LOW,
}

#: Impact code -> urgency of a request that is not marked ``urgent`` (urgent is HIGH).
URGENCY: dict[str, Urgency] = {
    "top": Urgency.HIGH,
    "high": Urgency.MEDIUM,
    "medium": Urgency.MEDIUM,
    "low": Urgency.MEDIUM,
}

#: Request status -> change status, for requests of category rfc.
CHANGE_STATUS: dict[str, ChangeStatus] = {
    "assigned": ChangeStatus.NEW,
    "on_backlog": ChangeStatus.NEW,
    "accepted": ChangeStatus.ASSESS,
    "waiting_for": ChangeStatus.ASSESS,
    "waiting_for_customer": ChangeStatus.ASSESS,
    "reservation_pending": ChangeStatus.SCHEDULED,
    "project_pending": ChangeStatus.SCHEDULED,
    "in_progress": ChangeStatus.IMPLEMENT,
    "workflow_pending": ChangeStatus.IMPLEMENT,
    "declined": ChangeStatus.CANCELLED,
    "completed": ChangeStatus.CLOSED,
}

#: Request statuses in which an rfc is on hold. Not workflow_pending: for an rfc the Xurrent
#: workflow *is* the change being carried out.
CHANGE_ON_HOLD: dict[str, bool] = {
    "waiting_for": True,
    "waiting_for_customer": True,
    "reservation_pending": True,
    "project_pending": True,
    "on_backlog": True,
}


def truth(value: str) -> bool:
    """A value-map override's text as a boolean."""
    folded = value.strip().casefold()
    if folded in ("true", "yes", "1"):
        return True
    if folded in ("false", "no", "0"):
        return False
    raise ValueError("expected true or false")


#: CI status -> common CI status.
CI_STATUS: dict[str, CiStatus] = {
    "in_production": CiStatus.OPERATIONAL,
    "lent_out": CiStatus.OPERATIONAL,
    "to_be_removed": CiStatus.OPERATIONAL,
    "standby_for_continuity": CiStatus.STANDBY,
    "in_stock": CiStatus.STANDBY,
    "being_repaired": CiStatus.REPAIR,
    "undergoing_maintenance": CiStatus.REPAIR,
    "broken_down": CiStatus.NON_OPERATIONAL,
    "ordered": CiStatus.PLANNED,
    "being_built": CiStatus.PLANNED,
    "being_tested": CiStatus.PLANNED,
    "reserved": CiStatus.PLANNED,
    "installed": CiStatus.PLANNED,
    "removed": CiStatus.RETIRED,
    "archived": CiStatus.RETIRED,
    "lost_or_stolen": CiStatus.RETIRED,
}
