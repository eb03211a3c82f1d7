"""Jira Service Management's default lookup tables: English labels and common Dutch ones.

Jira sites name their issue types, statuses, priorities and resolutions themselves; only the
status *category* (new | indeterminate | done) is fixed. A supplier adds or overrides any
entry through ``value_maps`` in the hub configuration, under the map's name:

==================  ==========================================  ================================
map name            key                                         value
==================  ==========================================  ================================
``issue_type``      issue type name ("[System] " prefix         incident | change | normal |
                    ignored)                                    standard | emergency
``request_type``    JSM request type name (before issue type)   same as ``issue_type``
``status_category`` statusCategory key, name or id              an incident status
``status``          status name (incidents)                     an incident status
``hold_reason``     status name (incidents on hold)             a hold reason
``change_status``   status name (changes)                       a change status
``change_category`` statusCategory key, name or id              a change status
``change_on_hold``  status name (changes)                       true | false
``change_type``     change type label (``change_type_field``)   standard | normal | emergency
``change_risk``     risk label (``risk_field``)                 very_high | high | moderate | low
``priority``        priority name                               P1-P5
``resolution``      resolution name                             a resolution code
``reopened_status`` status name that means "reopened"           any (only the names count)
==================  ==========================================  ================================
"""

from __future__ import annotations

from typing import NamedTuple

from schemas import (
    ChangeRisk,
    ChangeStatus,
    ChangeType,
    EntityKind,
    HoldReason,
    IncidentStatus,
    Priority,
    ResolutionCode,
)

__all__ = [
    "CHANGE_CATEGORY",
    "CHANGE_ON_HOLD",
    "CHANGE_RISK",
    "CHANGE_STATUS",
    "CHANGE_TYPE",
    "HOLD_REASON",
    "ISSUE_TYPE",
    "PRIORITY",
    "REOPENED_STATUS",
    "REQUEST_TYPE",
    "RESOLUTION",
    "STATUS",
    "STATUS_CATEGORY",
    "IssueKind",
    "issue_kind",
    "truthy",
]


class IssueKind(NamedTuple):
    """What an issue type is to Schakel: an incident, or a change of a given type."""

    kind: EntityKind
    change_type: ChangeType | None = None


_INCIDENT = IssueKind(EntityKind.INCIDENT)
_NORMAL = IssueKind(EntityKind.CHANGE, ChangeType.NORMAL)
_STANDARD = IssueKind(EntityKind.CHANGE, ChangeType.STANDARD)
_EMERGENCY = IssueKind(EntityKind.CHANGE, ChangeType.EMERGENCY)

_KIND_WORDS: dict[str, IssueKind] = {
    "incident": _INCIDENT,
    "change": _NORMAL,
    "normal": _NORMAL,
    "normal_change": _NORMAL,
    "standard": _STANDARD,
    "standard_change": _STANDARD,
    "emergency": _EMERGENCY,
    "emergency_change": _EMERGENCY,
}


def issue_kind(word: str) -> IssueKind:
    """Read an ``issue_type`` override value: incident, change, normal, standard, emergency."""
    try:
        return _KIND_WORDS[word.strip().lower().replace(" ", "_")]
    except KeyError:
        raise ValueError(f"expected one of {', '.join(sorted(_KIND_WORDS))}") from None


def truthy(word: str) -> bool:
    """Read a ``change_on_hold`` override value."""
    folded = word.strip().lower()
    if folded in ("true", "yes", "ja", "1"):
        return True
    if folded in ("false", "no", "nee", "0"):
        return False
    raise ValueError("expected true or false")


#: Issue type name -> incident or change (with its change type). Anything else is dead-lettered
#: with the config key to set. A bug or defect is something broken: an incident (what a Jira
#: admin expects); tasks, stories, epics and service requests are not mapped by default.
ISSUE_TYPE: dict[str, IssueKind] = {
    "incident": _INCIDENT,
    "bug": _INCIDENT,
    "defect": _INCIDENT,
    "fout": _INCIDENT,
    "bevinding": _INCIDENT,
    "storing": _INCIDENT,
    "verstoring": _INCIDENT,
    "major incident": _INCIDENT,
    "change": _NORMAL,
    "wijziging": _NORMAL,
    "normal change": _NORMAL,
    "normale wijziging": _NORMAL,
    "reguliere wijziging": _NORMAL,
    "standard change": _STANDARD,
    "standaard wijziging": _STANDARD,
    "standaardwijziging": _STANDARD,
    "emergency change": _EMERGENCY,
    "spoedwijziging": _EMERGENCY,
    "noodwijziging": _EMERGENCY,
}

#: JSM request type name -> incident or change; looked up before the issue type. Defaults: the
#: request types of Jira Service Management's IT service management template.
REQUEST_TYPE: dict[str, IssueKind] = {
    "report a system problem": _INCIDENT,
    "report an incident": _INCIDENT,
    "report broken hardware": _INCIDENT,
    "storing melden": _INCIDENT,
    "request a change": _NORMAL,
    "wijziging aanvragen": _NORMAL,
}

#: statusCategory key (also its English name and id) -> incident status, before the name.
STATUS_CATEGORY: dict[str, IncidentStatus] = {
    "new": IncidentStatus.NEW,
    "to do": IncidentStatus.NEW,
    "2": IncidentStatus.NEW,
    "indeterminate": IncidentStatus.IN_PROGRESS,
    "in progress": IncidentStatus.IN_PROGRESS,
    "4": IncidentStatus.IN_PROGRESS,
    "done": IncidentStatus.RESOLVED,
    "3": IncidentStatus.RESOLVED,
}

#: Status name -> incident status; refines the category. Names not listed keep the category's.
STATUS: dict[str, IncidentStatus] = {
    # JSM ("Waiting for support" means the supplier's agents must act: the clock runs)
    "waiting for support": IncidentStatus.IN_PROGRESS,
    "work in progress": IncidentStatus.IN_PROGRESS,
    "in progress": IncidentStatus.IN_PROGRESS,
    "escalated": IncidentStatus.IN_PROGRESS,
    "reopened": IncidentStatus.IN_PROGRESS,
    "waiting for customer": IncidentStatus.ON_HOLD,
    "waiting for reporter": IncidentStatus.ON_HOLD,
    "pending": IncidentStatus.ON_HOLD,
    "on hold": IncidentStatus.ON_HOLD,
    "waiting for vendor": IncidentStatus.ON_HOLD,
    "waiting for third party": IncidentStatus.ON_HOLD,
    "waiting for change": IncidentStatus.ON_HOLD,
    "resolved": IncidentStatus.RESOLVED,
    "closed": IncidentStatus.CLOSED,
    "done": IncidentStatus.CLOSED,
    "completed": IncidentStatus.CLOSED,
    "canceled": IncidentStatus.CANCELLED,
    "cancelled": IncidentStatus.CANCELLED,
    "declined": IncidentStatus.CANCELLED,
    "won't do": IncidentStatus.CANCELLED,
    # Dutch
    "nieuw": IncidentStatus.NEW,
    "in behandeling": IncidentStatus.IN_PROGRESS,
    "in uitvoering": IncidentStatus.IN_PROGRESS,
    "wacht op ondersteuning": IncidentStatus.IN_PROGRESS,
    "heropend": IncidentStatus.IN_PROGRESS,
    "wacht op klant": IncidentStatus.ON_HOLD,
    "wachten op klant": IncidentStatus.ON_HOLD,
    "wacht op melder": IncidentStatus.ON_HOLD,
    "wachten op melder": IncidentStatus.ON_HOLD,
    "wacht op aanvrager": IncidentStatus.ON_HOLD,
    "in afwachting": IncidentStatus.ON_HOLD,
    "geparkeerd": IncidentStatus.ON_HOLD,
    "wacht op leverancier": IncidentStatus.ON_HOLD,
    "wacht op wijziging": IncidentStatus.ON_HOLD,
    "opgelost": IncidentStatus.RESOLVED,
    "gesloten": IncidentStatus.CLOSED,
    "afgesloten": IncidentStatus.CLOSED,
    "gereed": IncidentStatus.CLOSED,
    "voltooid": IncidentStatus.CLOSED,
    "geannuleerd": IncidentStatus.CANCELLED,
    "afgewezen": IncidentStatus.CANCELLED,
    "ingetrokken": IncidentStatus.CANCELLED,
}

#: Status name -> why an on-hold incident waits; an on-hold status not listed is "other".
HOLD_REASON: dict[str, HoldReason] = {
    "waiting for customer": HoldReason.AWAITING_CALLER,
    "waiting for reporter": HoldReason.AWAITING_CALLER,
    "wacht op klant": HoldReason.AWAITING_CALLER,
    "wachten op klant": HoldReason.AWAITING_CALLER,
    "wacht op melder": HoldReason.AWAITING_CALLER,
    "wachten op melder": HoldReason.AWAITING_CALLER,
    "wacht op aanvrager": HoldReason.AWAITING_CALLER,
    "waiting for vendor": HoldReason.AWAITING_SUPPLIER,
    "waiting for third party": HoldReason.AWAITING_SUPPLIER,
    "wacht op leverancier": HoldReason.AWAITING_SUPPLIER,
    "waiting for change": HoldReason.AWAITING_CHANGE,
    "wacht op wijziging": HoldReason.AWAITING_CHANGE,
}

#: Status names that say the ticket was reopened, whatever its category.
REOPENED_STATUS: frozenset[str] = frozenset({"reopened", "heropend"})

#: statusCategory -> change status, before the name.
CHANGE_CATEGORY: dict[str, ChangeStatus] = {
    "new": ChangeStatus.NEW,
    "to do": ChangeStatus.NEW,
    "2": ChangeStatus.NEW,
    "indeterminate": ChangeStatus.ASSESS,
    "in progress": ChangeStatus.ASSESS,
    "4": ChangeStatus.ASSESS,
    "done": ChangeStatus.CLOSED,
    "3": ChangeStatus.CLOSED,
}

#: Status name -> change status (JSM change workflow names and Dutch ones).
CHANGE_STATUS: dict[str, ChangeStatus] = {
    "open": ChangeStatus.NEW,
    "new": ChangeStatus.NEW,
    "nieuw": ChangeStatus.NEW,
    "planning": ChangeStatus.ASSESS,
    "under review": ChangeStatus.ASSESS,
    "peer review": ChangeStatus.ASSESS,
    "assess": ChangeStatus.ASSESS,
    "in beoordeling": ChangeStatus.ASSESS,
    "beoordelen": ChangeStatus.ASSESS,
    "authorize": ChangeStatus.AUTHORIZE,
    "awaiting approval": ChangeStatus.AUTHORIZE,
    "awaiting cab approval": ChangeStatus.AUTHORIZE,
    "wacht op goedkeuring": ChangeStatus.AUTHORIZE,
    "ter goedkeuring": ChangeStatus.AUTHORIZE,
    "awaiting implementation": ChangeStatus.SCHEDULED,
    "scheduled": ChangeStatus.SCHEDULED,
    "gepland": ChangeStatus.SCHEDULED,
    "ingepland": ChangeStatus.SCHEDULED,
    "implementing": ChangeStatus.IMPLEMENT,
    "in implementation": ChangeStatus.IMPLEMENT,
    "in progress": ChangeStatus.IMPLEMENT,
    "in uitvoering": ChangeStatus.IMPLEMENT,
    "implementeren": ChangeStatus.IMPLEMENT,
    "review": ChangeStatus.REVIEW,
    "post-implementation review": ChangeStatus.REVIEW,
    "evaluatie": ChangeStatus.REVIEW,
    "evalueren": ChangeStatus.REVIEW,
    "completed": ChangeStatus.CLOSED,
    "done": ChangeStatus.CLOSED,
    "closed": ChangeStatus.CLOSED,
    "failed": ChangeStatus.CLOSED,
    "afgerond": ChangeStatus.CLOSED,
    "gesloten": ChangeStatus.CLOSED,
    "voltooid": ChangeStatus.CLOSED,
    "gereed": ChangeStatus.CLOSED,
    "mislukt": ChangeStatus.CLOSED,
    "canceled": ChangeStatus.CANCELLED,
    "cancelled": ChangeStatus.CANCELLED,
    "declined": ChangeStatus.CANCELLED,
    "rejected": ChangeStatus.CANCELLED,
    "geannuleerd": ChangeStatus.CANCELLED,
    "afgewezen": ChangeStatus.CANCELLED,
}

#: Change status names that mean "on hold" (the change keeps its category's status).
CHANGE_ON_HOLD: dict[str, bool] = {
    "on hold": True,
    "pending": True,
    "waiting for customer": True,
    "geparkeerd": True,
    "in afwachting": True,
    "wacht op klant": True,
}

#: The change type select field's labels (when the site has one; see ``change_type_field``).
CHANGE_TYPE: dict[str, ChangeType] = {
    "standard": ChangeType.STANDARD,
    "standaard": ChangeType.STANDARD,
    "normal": ChangeType.NORMAL,
    "normaal": ChangeType.NORMAL,
    "regulier": ChangeType.NORMAL,
    "emergency": ChangeType.EMERGENCY,
    "spoed": ChangeType.EMERGENCY,
    "nood": ChangeType.EMERGENCY,
}

#: The change risk select field's labels (when the site has one; see ``risk_field``).
CHANGE_RISK: dict[str, ChangeRisk] = {
    "critical": ChangeRisk.VERY_HIGH,
    "very high": ChangeRisk.VERY_HIGH,
    "zeer hoog": ChangeRisk.VERY_HIGH,
    "kritiek": ChangeRisk.VERY_HIGH,
    "high": ChangeRisk.HIGH,
    "hoog": ChangeRisk.HIGH,
    "medium": ChangeRisk.MODERATE,
    "moderate": ChangeRisk.MODERATE,
    "gemiddeld": ChangeRisk.MODERATE,
    "low": ChangeRisk.LOW,
    "laag": ChangeRisk.LOW,
}

#: Priority name -> P1-P5: Jira's default scheme, the older one and Dutch labels.
PRIORITY: dict[str, Priority] = {
    "highest": Priority.P1,
    "high": Priority.P2,
    "medium": Priority.P3,
    "low": Priority.P4,
    "lowest": Priority.P5,
    "blocker": Priority.P1,
    "critical": Priority.P2,
    "major": Priority.P3,
    "minor": Priority.P4,
    "trivial": Priority.P5,
    "hoogste": Priority.P1,
    "zeer hoog": Priority.P1,
    "kritiek": Priority.P1,
    "hoog": Priority.P2,
    "gemiddeld": Priority.P3,
    "normaal": Priority.P3,
    "laag": Priority.P4,
    "laagste": Priority.P5,
    "zeer laag": Priority.P5,
    "p1": Priority.P1,
    "p2": Priority.P2,
    "p3": Priority.P3,
    "p4": Priority.P4,
    "p5": Priority.P5,
}

#: Resolution name -> resolution code; a name not listed is "other" (the name is kept).
RESOLUTION: dict[str, ResolutionCode] = {
    "done": ResolutionCode.SOLVED,
    "fixed": ResolutionCode.SOLVED,
    "resolved": ResolutionCode.SOLVED,
    "hardware failure": ResolutionCode.SOLVED,
    "software failure": ResolutionCode.SOLVED,
    "known error": ResolutionCode.WORKAROUND,
    "workaround": ResolutionCode.WORKAROUND,
    "cannot reproduce": ResolutionCode.NOT_REPRODUCIBLE,
    "duplicate": ResolutionCode.DUPLICATE,
    "won't do": ResolutionCode.NOT_SOLVED,
    "won't fix": ResolutionCode.NOT_SOLVED,
    "withdrawn": ResolutionCode.WITHDRAWN,
    "resolved by customer": ResolutionCode.RESOLVED_BY_CALLER,
    "gereed": ResolutionCode.SOLVED,
    "opgelost": ResolutionCode.SOLVED,
    "bekende fout": ResolutionCode.WORKAROUND,
    "tijdelijke oplossing": ResolutionCode.WORKAROUND,
    "niet reproduceerbaar": ResolutionCode.NOT_REPRODUCIBLE,
    "kan niet reproduceren": ResolutionCode.NOT_REPRODUCIBLE,
    "dubbel": ResolutionCode.DUPLICATE,
    "duplicaat": ResolutionCode.DUPLICATE,
    "wordt niet opgelost": ResolutionCode.NOT_SOLVED,
    "wordt niet uitgevoerd": ResolutionCode.NOT_SOLVED,
    "ingetrokken": ResolutionCode.WITHDRAWN,
    "opgelost door melder": ResolutionCode.RESOLVED_BY_CALLER,
}
