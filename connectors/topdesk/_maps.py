"""TOPdesk's default lookup tables, keyed by the *names* a site gives its lookups.

TOPdesk lookups (priority, impact, urgency, processingStatus, closureCode, ...) are
``{id, name}`` pairs whose names every site configures itself. These tables hold common Dutch
and English names; a supplier adds or replaces any of them in its ``value_maps`` under the
table's name (``priority``, ``impact``, ``urgency``, ``status``, ``hold_reason``,
``resolution``, ``reopened``, ``change_type``, ``change_status``, ``change_risk``,
``ci_status``). Keys are matched case- and space-insensitively.
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
    "CHANGE_RISK",
    "CHANGE_STATUS",
    "CHANGE_TYPE",
    "CI_STATUS",
    "HOLD_REASON",
    "IMPACT",
    "INCIDENT_STATUS",
    "PRIORITY",
    "REOPENED",
    "RESOLUTION",
    "URGENCY",
    "truthy",
]

#: priority name -> P1-P5. Names starting with "P<n>" or "<n> -" are also read when absent.
PRIORITY: dict[str, Priority] = {
    "P1 - Kritiek": Priority.P1,
    "Kritiek": Priority.P1,
    "Zeer hoog": Priority.P1,
    "Critical": Priority.P1,
    "Very high": Priority.P1,
    "P2 - Hoog": Priority.P2,
    "Hoog": Priority.P2,
    "High": Priority.P2,
    "P3 - Gemiddeld": Priority.P3,
    "Gemiddeld": Priority.P3,
    "Normaal": Priority.P3,
    "Middel": Priority.P3,
    "Medium": Priority.P3,
    "Normal": Priority.P3,
    "Moderate": Priority.P3,
    "P4 - Laag": Priority.P4,
    "Laag": Priority.P4,
    "Low": Priority.P4,
    "P5 - Planning": Priority.P5,
    "Zeer laag": Priority.P5,
    "Planning": Priority.P5,
    "Gepland": Priority.P5,
    "Very low": Priority.P5,
}

#: impact name -> impact. TOPdesk sites often name impact by its reach (person .. organisation).
IMPACT: dict[str, Impact] = {
    "Hoog": Impact.HIGH,
    "Groot": Impact.HIGH,
    "High": Impact.HIGH,
    "Organisatie": Impact.HIGH,
    "Organisatiebreed": Impact.HIGH,
    "Meerdere afdelingen": Impact.HIGH,
    "Vestiging": Impact.HIGH,
    "Organisation": Impact.HIGH,
    "Organization": Impact.HIGH,
    "Gemiddeld": Impact.MEDIUM,
    "Middel": Impact.MEDIUM,
    "Medium": Impact.MEDIUM,
    "Afdeling": Impact.MEDIUM,
    "Groep": Impact.MEDIUM,
    "Department": Impact.MEDIUM,
    "Laag": Impact.LOW,
    "Klein": Impact.LOW,
    "Low": Impact.LOW,
    "Persoon": Impact.LOW,
    "Eén persoon": Impact.LOW,
    "Gebruiker": Impact.LOW,
    "Person": Impact.LOW,
    "Single user": Impact.LOW,
}

#: urgency name -> urgency. Sites often name urgency by how far the caller can still work.
URGENCY: dict[str, Urgency] = {
    "Hoog": Urgency.HIGH,
    "High": Urgency.HIGH,
    "Kritiek": Urgency.HIGH,
    "Kan niet werken": Urgency.HIGH,
    "Werk ligt stil": Urgency.HIGH,
    "Cannot work": Urgency.HIGH,
    "Gemiddeld": Urgency.MEDIUM,
    "Middel": Urgency.MEDIUM,
    "Medium": Urgency.MEDIUM,
    "Kan beperkt werken": Urgency.MEDIUM,
    "Hinderlijk": Urgency.MEDIUM,
    "Can work with limitations": Urgency.MEDIUM,
    "Laag": Urgency.LOW,
    "Low": Urgency.LOW,
    "Kan werken": Urgency.LOW,
    "Kan verder": Urgency.LOW,
    "Niet urgent": Urgency.LOW,
    "Can work": Urgency.LOW,
}

#: processingStatus name -> incident status; used when no closed/completed/onHold flag decides.
INCIDENT_STATUS: dict[str, IncidentStatus] = {
    "Gemeld": IncidentStatus.NEW,
    "Nieuw": IncidentStatus.NEW,
    "Aangemeld": IncidentStatus.NEW,
    "Geregistreerd": IncidentStatus.NEW,
    "Logged": IncidentStatus.NEW,
    "Registered": IncidentStatus.NEW,
    "New": IncidentStatus.NEW,
    "In behandeling": IncidentStatus.IN_PROGRESS,
    "Toegewezen": IncidentStatus.IN_PROGRESS,
    "Heropend": IncidentStatus.IN_PROGRESS,
    "Opnieuw geopend": IncidentStatus.IN_PROGRESS,
    "In progress": IncidentStatus.IN_PROGRESS,
    "Assigned": IncidentStatus.IN_PROGRESS,
    "Reopened": IncidentStatus.IN_PROGRESS,
    "Wachten op leverancier": IncidentStatus.ON_HOLD,
    "Wacht op leverancier": IncidentStatus.ON_HOLD,
    "Wachten op derden": IncidentStatus.ON_HOLD,
    "Wacht op gebruiker": IncidentStatus.ON_HOLD,
    "Wachten op gebruiker": IncidentStatus.ON_HOLD,
    "Wacht op aanmelder": IncidentStatus.ON_HOLD,
    "Wachten op aanmelder": IncidentStatus.ON_HOLD,
    "Wacht op melder": IncidentStatus.ON_HOLD,
    "Wachten op melder": IncidentStatus.ON_HOLD,
    "Wachten op wijziging": IncidentStatus.ON_HOLD,
    "Wachten op probleem": IncidentStatus.ON_HOLD,
    "Geparkeerd": IncidentStatus.ON_HOLD,
    "On hold": IncidentStatus.ON_HOLD,
    "Waiting for supplier": IncidentStatus.ON_HOLD,
    "Waiting for user": IncidentStatus.ON_HOLD,
    "Waiting for caller": IncidentStatus.ON_HOLD,
    "Afgemeld": IncidentStatus.RESOLVED,
    "Opgelost": IncidentStatus.RESOLVED,
    "Gereed": IncidentStatus.RESOLVED,
    "Completed": IncidentStatus.RESOLVED,
    "Resolved": IncidentStatus.RESOLVED,
    "Gesloten": IncidentStatus.CLOSED,
    "Afgesloten": IncidentStatus.CLOSED,
    "Closed": IncidentStatus.CLOSED,
    "Geannuleerd": IncidentStatus.CANCELLED,
    "Vervallen": IncidentStatus.CANCELLED,
    "Ingetrokken": IncidentStatus.CANCELLED,
    "Cancelled": IncidentStatus.CANCELLED,
    "Canceled": IncidentStatus.CANCELLED,
    "Withdrawn": IncidentStatus.CANCELLED,
}

#: processingStatus name of an on-hold incident -> why it waits (anything else: other).
HOLD_REASON: dict[str, HoldReason] = {
    "Wachten op leverancier": HoldReason.AWAITING_SUPPLIER,
    "Wacht op leverancier": HoldReason.AWAITING_SUPPLIER,
    "Wachten op derden": HoldReason.AWAITING_SUPPLIER,
    "Waiting for supplier": HoldReason.AWAITING_SUPPLIER,
    "Waiting for vendor": HoldReason.AWAITING_SUPPLIER,
    "Wacht op gebruiker": HoldReason.AWAITING_CALLER,
    "Wachten op gebruiker": HoldReason.AWAITING_CALLER,
    "Wacht op aanmelder": HoldReason.AWAITING_CALLER,
    "Wachten op aanmelder": HoldReason.AWAITING_CALLER,
    "Wacht op melder": HoldReason.AWAITING_CALLER,
    "Wachten op melder": HoldReason.AWAITING_CALLER,
    "Waiting for user": HoldReason.AWAITING_CALLER,
    "Waiting for caller": HoldReason.AWAITING_CALLER,
    "Wachten op wijziging": HoldReason.AWAITING_CHANGE,
    "Wacht op wijziging": HoldReason.AWAITING_CHANGE,
    "Waiting for change": HoldReason.AWAITING_CHANGE,
    "Wachten op probleem": HoldReason.AWAITING_PROBLEM,
    "Wacht op probleem": HoldReason.AWAITING_PROBLEM,
    "Waiting for problem": HoldReason.AWAITING_PROBLEM,
}

#: processingStatus names that say the incident was reopened ("true"/"false" in overrides).
REOPENED: dict[str, bool] = {
    "Heropend": True,
    "Opnieuw geopend": True,
    "Reopened": True,
}

#: closureCode name -> resolution code (unknown names: other, with the name kept).
RESOLUTION: dict[str, ResolutionCode] = {
    "Opgelost": ResolutionCode.SOLVED,
    "Verholpen": ResolutionCode.SOLVED,
    "Oplossing gegeven": ResolutionCode.SOLVED,
    "Structureel opgelost": ResolutionCode.SOLVED,
    "Vraag beantwoord": ResolutionCode.SOLVED,
    "Advies gegeven": ResolutionCode.SOLVED,
    "Solved": ResolutionCode.SOLVED,
    "Resolved": ResolutionCode.SOLVED,
    "Question answered": ResolutionCode.SOLVED,
    "Workaround": ResolutionCode.WORKAROUND,
    "Tijdelijke oplossing": ResolutionCode.WORKAROUND,
    "Omweg geboden": ResolutionCode.WORKAROUND,
    "Work around": ResolutionCode.WORKAROUND,
    "Niet reproduceerbaar": ResolutionCode.NOT_REPRODUCIBLE,
    "Not reproducible": ResolutionCode.NOT_REPRODUCIBLE,
    "Opgelost door melder": ResolutionCode.RESOLVED_BY_CALLER,
    "Opgelost door aanmelder": ResolutionCode.RESOLVED_BY_CALLER,
    "Vanzelf opgelost": ResolutionCode.RESOLVED_BY_CALLER,
    "Resolved by caller": ResolutionCode.RESOLVED_BY_CALLER,
    "Dubbele melding": ResolutionCode.DUPLICATE,
    "Duplicaat": ResolutionCode.DUPLICATE,
    "Duplicate": ResolutionCode.DUPLICATE,
    "Ingetrokken": ResolutionCode.WITHDRAWN,
    "Ingetrokken door melder": ResolutionCode.WITHDRAWN,
    "Vervallen": ResolutionCode.WITHDRAWN,
    "Geannuleerd": ResolutionCode.WITHDRAWN,
    "Withdrawn": ResolutionCode.WITHDRAWN,
    "Cancelled": ResolutionCode.WITHDRAWN,
    "Niet opgelost": ResolutionCode.NOT_SOLVED,
    "Not solved": ResolutionCode.NOT_SOLVED,
}

#: operator change changeType -> ITIL change type. TOPdesk knows simple and extensive only.
CHANGE_TYPE: dict[str, ChangeType] = {
    "simple": ChangeType.STANDARD,
    "eenvoudig": ChangeType.STANDARD,
    "eenvoudige wijziging": ChangeType.STANDARD,
    "extensive": ChangeType.NORMAL,
    "uitgebreid": ChangeType.NORMAL,
    "uitgebreide wijziging": ChangeType.NORMAL,
}

#: operator change status or phase name -> change status. The response fields that carry
#: them are unconfirmed; the translator reads ``status``, ``processingStatus``, ``phase``
#: and ``currentPhase`` and maps whichever it finds through this one table.
CHANGE_STATUS: dict[str, ChangeStatus] = {
    # statuses
    "Aangemeld": ChangeStatus.NEW,
    "Gemeld": ChangeStatus.NEW,
    "Nieuw": ChangeStatus.NEW,
    "Registered": ChangeStatus.NEW,
    "New": ChangeStatus.NEW,
    "In beoordeling": ChangeStatus.ASSESS,
    "Beoordelen": ChangeStatus.ASSESS,
    "Impactanalyse": ChangeStatus.ASSESS,
    "Assess": ChangeStatus.ASSESS,
    "Under assessment": ChangeStatus.ASSESS,
    "Ter goedkeuring": ChangeStatus.AUTHORIZE,
    "Wacht op goedkeuring": ChangeStatus.AUTHORIZE,
    "Wachten op autorisatie": ChangeStatus.AUTHORIZE,
    "Autorisatie": ChangeStatus.AUTHORIZE,
    "Awaiting approval": ChangeStatus.AUTHORIZE,
    "Authorize": ChangeStatus.AUTHORIZE,
    "Goedgekeurd": ChangeStatus.SCHEDULED,
    "Gepland": ChangeStatus.SCHEDULED,
    "Ingepland": ChangeStatus.SCHEDULED,
    "Approved": ChangeStatus.SCHEDULED,
    "Scheduled": ChangeStatus.SCHEDULED,
    "In uitvoering": ChangeStatus.IMPLEMENT,
    "In behandeling": ChangeStatus.IMPLEMENT,
    "Implementatie": ChangeStatus.IMPLEMENT,
    "In progress": ChangeStatus.IMPLEMENT,
    "Implement": ChangeStatus.IMPLEMENT,
    "Uitgevoerd": ChangeStatus.REVIEW,
    "Geëvalueerd": ChangeStatus.REVIEW,
    "Implemented": ChangeStatus.REVIEW,
    "Review": ChangeStatus.REVIEW,
    "Gesloten": ChangeStatus.CLOSED,
    "Afgesloten": ChangeStatus.CLOSED,
    "Afgerond": ChangeStatus.CLOSED,
    "Closed": ChangeStatus.CLOSED,
    "Geannuleerd": ChangeStatus.CANCELLED,
    "Afgewezen": ChangeStatus.CANCELLED,
    "Vervallen": ChangeStatus.CANCELLED,
    "Ingetrokken": ChangeStatus.CANCELLED,
    "Cancelled": ChangeStatus.CANCELLED,
    "Canceled": ChangeStatus.CANCELLED,
    "Rejected": ChangeStatus.CANCELLED,
    # phases of an extensive change: request for change, progress, evaluation
    "rfc": ChangeStatus.ASSESS,
    "requestForChange": ChangeStatus.ASSESS,
    "Aanvraag": ChangeStatus.ASSESS,
    "Aanvraagfase": ChangeStatus.ASSESS,
    "progress": ChangeStatus.IMPLEMENT,
    "Voortgang": ChangeStatus.IMPLEMENT,
    "Voortgangsfase": ChangeStatus.IMPLEMENT,
    "evaluation": ChangeStatus.REVIEW,
    "Evaluatie": ChangeStatus.REVIEW,
    "Evaluatiefase": ChangeStatus.REVIEW,
}

CHANGE_RISK: dict[str, ChangeRisk] = {
    "Zeer hoog": ChangeRisk.VERY_HIGH,
    "Very high": ChangeRisk.VERY_HIGH,
    "Hoog": ChangeRisk.HIGH,
    "High": ChangeRisk.HIGH,
    "Gemiddeld": ChangeRisk.MODERATE,
    "Middel": ChangeRisk.MODERATE,
    "Medium": ChangeRisk.MODERATE,
    "Moderate": ChangeRisk.MODERATE,
    "Laag": ChangeRisk.LOW,
    "Low": ChangeRisk.LOW,
}

#: asset ``@status`` -> CI status. IMPACTED (an open incident or change affects the asset)
#: has no exact common term; it reads as "repair in progress". ``archived`` means retired.
CI_STATUS: dict[str, CiStatus] = {
    "OPERATIONAL": CiStatus.OPERATIONAL,
    "IMPACTED": CiStatus.REPAIR,
}


def truthy(text: str) -> bool:
    """Read a boolean override ("true"/"false", "ja"/"nee", "1"/"0")."""
    folded = text.strip().casefold()
    if folded in ("true", "yes", "ja", "1"):
        return True
    if folded in ("false", "no", "nee", "0"):
        return False
    raise ValueError(f"{text!r} is not true or false")
