"""ServiceNow's default lookup tables: codes and their English labels, both accepted.

Instances relabel and renumber; a supplier overrides any of these in its ``value_maps``.
"""

from __future__ import annotations

from schemas import (
    HoldReason,
    Impact,
    IncidentStatus,
    Priority,
    ResolutionCode,
    Urgency,
)

__all__ = [
    "HOLD_REASON",
    "IMPACT",
    "INCIDENT_STATE",
    "PRIORITY",
    "RESOLUTION",
    "URGENCY",
]

INCIDENT_STATE: dict[str, IncidentStatus] = {
    "1": IncidentStatus.NEW,
    "new": IncidentStatus.NEW,
    "2": IncidentStatus.IN_PROGRESS,
    "in progress": IncidentStatus.IN_PROGRESS,
    "active": IncidentStatus.IN_PROGRESS,
    "3": IncidentStatus.ON_HOLD,
    "on hold": IncidentStatus.ON_HOLD,
    "awaiting user info": IncidentStatus.ON_HOLD,
    "6": IncidentStatus.RESOLVED,
    "resolved": IncidentStatus.RESOLVED,
    "7": IncidentStatus.CLOSED,
    "closed": IncidentStatus.CLOSED,
    "8": IncidentStatus.CANCELLED,
    "canceled": IncidentStatus.CANCELLED,
    "cancelled": IncidentStatus.CANCELLED,
}

HOLD_REASON: dict[str, HoldReason] = {
    "1": HoldReason.AWAITING_CALLER,
    "awaiting caller": HoldReason.AWAITING_CALLER,
    "3": HoldReason.AWAITING_PROBLEM,
    "awaiting problem": HoldReason.AWAITING_PROBLEM,
    "4": HoldReason.AWAITING_SUPPLIER,
    "awaiting vendor": HoldReason.AWAITING_SUPPLIER,
    "5": HoldReason.AWAITING_CHANGE,
    "awaiting change": HoldReason.AWAITING_CHANGE,
}

IMPACT: dict[str, Impact] = {
    "1": Impact.HIGH,
    "1 - high": Impact.HIGH,
    "high": Impact.HIGH,
    "2": Impact.MEDIUM,
    "2 - medium": Impact.MEDIUM,
    "medium": Impact.MEDIUM,
    "3": Impact.LOW,
    "3 - low": Impact.LOW,
    "low": Impact.LOW,
}

URGENCY: dict[str, Urgency] = {k: Urgency(v.value) for k, v in IMPACT.items()}

PRIORITY: dict[str, Priority] = {
    "1": Priority.P1,
    "1 - critical": Priority.P1,
    "critical": Priority.P1,
    "2": Priority.P2,
    "2 - high": Priority.P2,
    "high": Priority.P2,
    "3": Priority.P3,
    "3 - moderate": Priority.P3,
    "moderate": Priority.P3,
    "4": Priority.P4,
    "4 - low": Priority.P4,
    "low": Priority.P4,
    "5": Priority.P5,
    "5 - planning": Priority.P5,
    "planning": Priority.P5,
}

RESOLUTION: dict[str, ResolutionCode] = {
    "solved (permanently)": ResolutionCode.SOLVED,
    "solved remotely (permanently)": ResolutionCode.SOLVED,
    "solved": ResolutionCode.SOLVED,
    "resolved": ResolutionCode.SOLVED,
    "solution provided": ResolutionCode.SOLVED,
    "solved (work around)": ResolutionCode.WORKAROUND,
    "solved remotely (work around)": ResolutionCode.WORKAROUND,
    "workaround provided": ResolutionCode.WORKAROUND,
    "not solved (not reproducible)": ResolutionCode.NOT_REPRODUCIBLE,
    "not solved (too costly)": ResolutionCode.NOT_SOLVED,
    "not solved": ResolutionCode.NOT_SOLVED,
    "closed/resolved by caller": ResolutionCode.RESOLVED_BY_CALLER,
    "resolved by caller": ResolutionCode.RESOLVED_BY_CALLER,
    "duplicate": ResolutionCode.DUPLICATE,
    "user error": ResolutionCode.OTHER,
    "known error": ResolutionCode.WORKAROUND,
}
