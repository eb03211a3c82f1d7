"""The ticket essentials in words for people: e-mail bodies, TOPdesk request and action text.

Only what an FB team needs to act: supplier and ticket number, title, status, priority, CI,
planning of a change, and why Schakel sent it to them (the routing explanation). No
description, comments or anything about the caller: those may hold personal data, and the
FB team reads them through the hub. Free text that is shown is minimised (services.privacy)
again (defence in depth; the normaliser already removed them).
"""

from __future__ import annotations

import html
from datetime import datetime
from zoneinfo import ZoneInfo

from schemas import Change, ChangeStatus, HoldReason, Incident, IncidentStatus
from schemas.changes import NOTICE_BASIS
from services.delivery.channels import Delivery
from services.privacy import minimise_text

__all__ = ["action_text", "facts", "render_html", "render_text", "status_text", "subject"]

_TZ = ZoneInfo("Europe/Amsterdam")

_INCIDENT_STATUS = {
    IncidentStatus.NEW: "Nieuw",
    IncidentStatus.IN_PROGRESS: "In behandeling",
    IncidentStatus.ON_HOLD: "In de wacht",
    IncidentStatus.RESOLVED: "Opgelost",
    IncidentStatus.CLOSED: "Gesloten",
    IncidentStatus.CANCELLED: "Geannuleerd",
}
_CHANGE_STATUS = {
    ChangeStatus.NEW: "Nieuw",
    ChangeStatus.ASSESS: "Beoordeling",
    ChangeStatus.AUTHORIZE: "Goedkeuring",
    ChangeStatus.SCHEDULED: "Gepland",
    ChangeStatus.IMPLEMENT: "In uitvoering",
    ChangeStatus.REVIEW: "Evaluatie",
    ChangeStatus.CLOSED: "Gesloten",
    ChangeStatus.CANCELLED: "Geannuleerd",
}
_HOLD = {
    HoldReason.AWAITING_CALLER: "wacht op melder",
    HoldReason.AWAITING_SUPPLIER: "wacht op leverancier",
    HoldReason.AWAITING_PROBLEM: "wacht op probleemoplossing",
    HoldReason.AWAITING_CHANGE: "wacht op wijziging",
    HoldReason.OTHER: "wacht",
}
_KIND = {"incident": "Incident (verstoring)", "change": "Wijziging (change)"}


def _when(value: datetime | None) -> str | None:
    return value.astimezone(_TZ).strftime("%d-%m-%Y %H:%M") if value else None


def status_text(ticket: Incident | Change) -> str:
    """``In behandeling (in_progress)``: the Dutch word and the model's code."""
    if isinstance(ticket, Incident):
        text = f"{_INCIDENT_STATUS[ticket.status]} ({ticket.status.value})"
        if ticket.status is IncidentStatus.ON_HOLD and ticket.hold_reason is not None:
            text += f", {_HOLD[ticket.hold_reason]}"
        return text
    text = f"{_CHANGE_STATUS[ticket.status]} ({ticket.status.value})"
    return text + ", in de wacht" if ticket.on_hold else text


def _number(delivery: Delivery) -> str:
    ref = delivery.routed.ticket.supplier_ref
    return ref.number or ref.record_id


def subject(delivery: Delivery) -> str:
    """A stable mail subject per ticket (mail clients thread on it); ``Re:`` for updates."""
    ticket = delivery.routed.ticket
    title = minimise_text(" ".join(ticket.title.split()))[:150]
    text = f"[Schakel] {ticket.supplier_ref.supplier} {_number(delivery)}: {title}"
    return "Re: " + text if delivery.is_update else text


def facts(delivery: Delivery) -> list[tuple[str, str]]:
    """(label, value) pairs of the ticket essentials, labels in Dutch / English."""
    ticket = delivery.routed.ticket
    decision = delivery.routed.decision
    rows: list[tuple[str, str | None]] = [
        ("Leverancier / Supplier", ticket.supplier_ref.supplier),
        ("Ticketnummer / Ticket", _number(delivery)),
        ("Onderwerp / Title", minimise_text(ticket.title)),
        ("Soort / Kind", _KIND[delivery.kind]),
        ("Status", status_text(ticket)),
        ("Prioriteit / Priority", ticket.priority.value if ticket.priority else None),
        ("CI", ticket.ci.name if ticket.ci else None),
    ]
    if isinstance(ticket, Incident):
        if ticket.resolution is not None:
            rows.append(("Oplossing / Resolution", ticket.resolution.code.value))
        rows.append(("Oplossen voor / Resolve by", _when(ticket.resolve_due_at)))
    else:
        rows += [
            ("Type wijziging / Change type", ticket.change_type.value),
            ("Gepland begin / Planned start", _when(ticket.planned_start)),
            ("Gepland einde / Planned end", _when(ticket.planned_end)),
        ]
    rows += [
        ("Bijgewerkt / Updated", _when(ticket.updated_at)),
        ("Waarom u dit krijgt / Why you", minimise_text(decision.explanation)),
        ("Routeringsregel / Rule", decision.rule_id or decision.basis),
        ("Team", f"{delivery.team} ({delivery.gemeente})"),
        ("Schakel-id", delivery.hub_id),
    ]
    return [(label, value) for label, value in rows if value]


def _heading(delivery: Delivery) -> str:
    if delivery.routed.decision.basis == NOTICE_BASIS:
        return "Aankondiging van een wijziging via Schakel / Change notice"
    if delivery.is_update:
        return "Update van een ticket via Schakel / Ticket update"
    return "Nieuw ticket via Schakel / New ticket"


_FOOTER = (
    "Reageren kan via Schakel (API of portaal), niet door dit bericht te beantwoorden.\n"
    "Reply through Schakel (API or portal), not by answering this message."
)


def render_text(delivery: Delivery) -> str:
    """The plain-text body (also TOPdesk's request text)."""
    rows = facts(delivery)
    width = max(len(label) for label, _ in rows) + 2
    lines = [_heading(delivery), ""]
    lines += [f"{label + ':':<{width}}{value}" for label, value in rows]
    lines += ["", _FOOTER, ""]
    return "\n".join(lines)


def render_html(delivery: Delivery) -> str:
    """A minimal HTML alternative: the same facts as a table, everything escaped."""
    cells = "".join(
        f"<tr><th align=left>{html.escape(label)}</th><td>{html.escape(value)}</td></tr>"
        for label, value in facts(delivery)
    )
    footer = html.escape(_FOOTER).replace("\n", "<br>")
    return (
        "<!doctype html><html><body>"
        f"<p><b>{html.escape(_heading(delivery))}</b></p>"
        f"<table cellpadding=4>{cells}</table>"
        f"<p><small>{footer}</small></p></body></html>"
    )


def action_text(delivery: Delivery) -> str:
    """The progress-trail entry of an update in the receiver's TOPdesk (an advance notice
    about a change: the notice itself, in words)."""
    ticket = delivery.routed.ticket
    if delivery.routed.decision.basis == NOTICE_BASIS:
        return f"Via Schakel: {minimise_text(delivery.routed.decision.explanation)}"
    parts = [
        f"Update van {ticket.supplier_ref.supplier} ({_number(delivery)}) via Schakel:",
        f"status {status_text(ticket)}",
    ]
    if ticket.priority is not None:
        parts.append(f"prioriteit {ticket.priority.value}")
    if isinstance(ticket, Incident) and ticket.resolution is not None:
        parts.append(f"oplossing {ticket.resolution.code.value}")
    if isinstance(ticket, Change) and ticket.planned_start is not None:
        parts.append(f"gepland {_when(ticket.planned_start)} - {_when(ticket.planned_end) or '?'}")
    return parts[0] + " " + ", ".join(parts[1:]) + "."
