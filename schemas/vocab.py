"""Controlled vocabularies of the common model.

Statuses follow ITIL and carry the TMF621 (Trouble Ticket) term where TMF621 has one;
priorities are P1-P5, derived from impact and urgency with the ITIL matrix when a supplier
states none.
"""

from __future__ import annotations

from enum import StrEnum

from schemas.errors import InvalidCode

__all__ = [
    "ChangeRisk",
    "ChangeStatus",
    "ChangeType",
    "CiStatus",
    "EntityKind",
    "HoldReason",
    "Impact",
    "IncidentStatus",
    "Priority",
    "ResolutionCode",
    "SupplierSystem",
    "Urgency",
    "Visibility",
    "priority_from",
]


class SupplierSystem(StrEnum):
    SERVICENOW = "servicenow"
    TOPDESK = "topdesk"
    JIRA = "jira"
    XURRENT = "xurrent"
    MAPPED = "mapped"


class EntityKind(StrEnum):
    INCIDENT = "incident"
    CHANGE = "change"
    CI = "ci"


class IncidentStatus(StrEnum):
    """ITIL incident lifecycle; ``tmf621`` gives the TMF621 TroubleTicket state."""

    NEW = "new"
    IN_PROGRESS = "in_progress"
    ON_HOLD = "on_hold"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"

    @property
    def tmf621(self) -> str:
        return _INCIDENT_TMF621[self]

    @property
    def is_open(self) -> bool:
        return self in (IncidentStatus.NEW, IncidentStatus.IN_PROGRESS, IncidentStatus.ON_HOLD)


_INCIDENT_TMF621 = {
    IncidentStatus.NEW: "acknowledged",
    IncidentStatus.IN_PROGRESS: "inProgress",
    IncidentStatus.ON_HOLD: "held",
    IncidentStatus.RESOLVED: "resolved",
    IncidentStatus.CLOSED: "closed",
    IncidentStatus.CANCELLED: "cancelled",
}


class HoldReason(StrEnum):
    """Why the clock stopped; ``awaiting_caller`` is TMF621's ``pending``."""

    AWAITING_CALLER = "awaiting_caller"
    AWAITING_SUPPLIER = "awaiting_supplier"
    AWAITING_PROBLEM = "awaiting_problem"
    AWAITING_CHANGE = "awaiting_change"
    OTHER = "other"


class ResolutionCode(StrEnum):
    SOLVED = "solved"
    WORKAROUND = "workaround"
    NOT_REPRODUCIBLE = "not_reproducible"
    RESOLVED_BY_CALLER = "resolved_by_caller"
    DUPLICATE = "duplicate"
    WITHDRAWN = "withdrawn"
    NOT_SOLVED = "not_solved"
    OTHER = "other"


class ChangeType(StrEnum):
    STANDARD = "standard"
    NORMAL = "normal"
    EMERGENCY = "emergency"


class ChangeStatus(StrEnum):
    """ITIL change lifecycle (the ServiceNow model, which most tools can be mapped onto)."""

    NEW = "new"
    ASSESS = "assess"
    AUTHORIZE = "authorize"
    SCHEDULED = "scheduled"
    IMPLEMENT = "implement"
    REVIEW = "review"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class ChangeRisk(StrEnum):
    VERY_HIGH = "very_high"
    HIGH = "high"
    MODERATE = "moderate"
    LOW = "low"


class CiStatus(StrEnum):
    OPERATIONAL = "operational"
    NON_OPERATIONAL = "non_operational"
    REPAIR = "repair"
    STANDBY = "standby"
    PLANNED = "planned"
    RETIRED = "retired"


class Impact(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Urgency(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Priority(StrEnum):
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"
    P5 = "P5"

    @classmethod
    def parse(cls, value: str | int) -> Priority:
        """Read ``"P2"``, ``"2"`` or ``2``."""
        text = str(value).strip().upper().removeprefix("P")
        try:
            return cls(f"P{int(text)}")
        except ValueError as exc:
            raise InvalidCode(f"priority {value!r} is not one of P1-P5") from exc


class Visibility(StrEnum):
    """A comment the caller/FB may read (TMF621 note), or an internal work note."""

    PUBLIC = "public"
    INTERNAL = "internal"


_MATRIX: dict[tuple[Impact, Urgency], Priority] = {
    (Impact.HIGH, Urgency.HIGH): Priority.P1,
    (Impact.HIGH, Urgency.MEDIUM): Priority.P2,
    (Impact.HIGH, Urgency.LOW): Priority.P3,
    (Impact.MEDIUM, Urgency.HIGH): Priority.P2,
    (Impact.MEDIUM, Urgency.MEDIUM): Priority.P3,
    (Impact.MEDIUM, Urgency.LOW): Priority.P4,
    (Impact.LOW, Urgency.HIGH): Priority.P3,
    (Impact.LOW, Urgency.MEDIUM): Priority.P4,
    (Impact.LOW, Urgency.LOW): Priority.P5,
}


def priority_from(impact: Impact, urgency: Urgency) -> Priority:
    """The ITIL impact x urgency matrix (low x low is P5, planning)."""
    return _MATRIX[(impact, urgency)]
