"""ServiceNow's default lookup tables: codes and their English labels, both accepted.

Instances relabel and renumber; a supplier overrides any of these in its ``value_maps``.
"""

from __future__ import annotations

from schemas import (
    ChangeRisk,
    ChangeStatus,
    ChangeType,
    CiStatus,
    HoldReason,
    Impact,
    IncidentStatus,
    Priority,
    ResolutionCode,
    Urgency,
)

__all__ = [
    "APPROVAL",
    "CHANGE_CLOSE_CODE",
    "CHANGE_RISK",
    "CHANGE_STATE",
    "CHANGE_TYPE",
    "CI_INSTALL_STATUS",
    "CI_OPERATIONAL_STATUS",
    "CI_RELATION_TYPE",
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

# --- change_request -----------------------------------------------------------------------

CHANGE_STATE: dict[str, ChangeStatus] = {
    "-5": ChangeStatus.NEW,
    "new": ChangeStatus.NEW,
    "-4": ChangeStatus.ASSESS,
    "assess": ChangeStatus.ASSESS,
    "-3": ChangeStatus.AUTHORIZE,
    "authorize": ChangeStatus.AUTHORIZE,
    "-2": ChangeStatus.SCHEDULED,
    "scheduled": ChangeStatus.SCHEDULED,
    "-1": ChangeStatus.IMPLEMENT,
    "implement": ChangeStatus.IMPLEMENT,
    "0": ChangeStatus.REVIEW,
    "review": ChangeStatus.REVIEW,
    "3": ChangeStatus.CLOSED,
    "closed": ChangeStatus.CLOSED,
    "4": ChangeStatus.CANCELLED,
    "canceled": ChangeStatus.CANCELLED,
    "cancelled": ChangeStatus.CANCELLED,
}

CHANGE_TYPE: dict[str, ChangeType] = {
    "standard": ChangeType.STANDARD,
    "normal": ChangeType.NORMAL,
    "emergency": ChangeType.EMERGENCY,
}

CHANGE_RISK: dict[str, ChangeRisk] = {
    "1": ChangeRisk.VERY_HIGH,
    "very high": ChangeRisk.VERY_HIGH,
    "2": ChangeRisk.HIGH,
    "high": ChangeRisk.HIGH,
    "3": ChangeRisk.MODERATE,
    "moderate": ChangeRisk.MODERATE,
    "4": ChangeRisk.LOW,
    "low": ChangeRisk.LOW,
}

#: close_code of a change, normalised to ServiceNow's stored codes; unknown codes pass as sent.
CHANGE_CLOSE_CODE: dict[str, str] = {
    "successful": "successful",
    "successful_issues": "successful_issues",
    "successful with issues": "successful_issues",
    "unsuccessful": "unsuccessful",
}

#: task.approval, normalised to snake_case codes; unknown values pass as sent.
APPROVAL: dict[str, str] = {
    "not requested": "not_requested",
    "not yet requested": "not_requested",
    "requested": "requested",
    "approved": "approved",
    "rejected": "rejected",
    "cancelled": "cancelled",
    "canceled": "cancelled",
    "not_required": "not_required",
    "no longer required": "not_required",
    "not required": "not_required",
    "duplicate": "duplicate",
}

# --- cmdb_ci ------------------------------------------------------------------------------

CI_OPERATIONAL_STATUS: dict[str, CiStatus] = {
    "1": CiStatus.OPERATIONAL,
    "operational": CiStatus.OPERATIONAL,
    "2": CiStatus.NON_OPERATIONAL,
    "non-operational": CiStatus.NON_OPERATIONAL,
    "3": CiStatus.REPAIR,
    "repair in progress": CiStatus.REPAIR,
    "4": CiStatus.STANDBY,
    "dr standby": CiStatus.STANDBY,
    "5": CiStatus.STANDBY,
    "ready": CiStatus.STANDBY,
    "6": CiStatus.RETIRED,
    "retired": CiStatus.RETIRED,
    "7": CiStatus.PLANNED,
    "pipeline": CiStatus.PLANNED,
    "8": CiStatus.PLANNED,
    "catalog": CiStatus.PLANNED,
}

CI_INSTALL_STATUS: dict[str, CiStatus] = {
    "0": CiStatus.PLANNED,
    "implementing": CiStatus.PLANNED,
    "1": CiStatus.OPERATIONAL,
    "installed": CiStatus.OPERATIONAL,
    "2": CiStatus.PLANNED,
    "on order": CiStatus.PLANNED,
    "3": CiStatus.REPAIR,
    "in maintenance": CiStatus.REPAIR,
    "4": CiStatus.PLANNED,
    "pending install": CiStatus.PLANNED,
    "5": CiStatus.REPAIR,
    "pending repair": CiStatus.REPAIR,
    "6": CiStatus.NON_OPERATIONAL,
    "in stock": CiStatus.NON_OPERATIONAL,
    "7": CiStatus.RETIRED,
    "retired": CiStatus.RETIRED,
    "8": CiStatus.NON_OPERATIONAL,
    "stolen": CiStatus.NON_OPERATIONAL,
    "100": CiStatus.NON_OPERATIONAL,
    "absent": CiStatus.NON_OPERATIONAL,
}

#: cmdb_rel_type sys_id -> "Parent label::Child label". Empty: type sys_ids differ per
#: instance, so a supplier that sends raw relation types maps them in value_maps.
CI_RELATION_TYPE: dict[str, str] = {}
