"""SlaEvent: what the SLA watch publishes on ``schakel.sla.v1`` (v1).

One event per moment in the life of one SLA clock of one ticket: the clock started, paused,
resumed, passed a warning percentage, breached its target, was met, stopped after a breach,
was cancelled; or the supplier's own due time differs from the contract's (a discrepancy).
Each event carries the clock's whole state at that moment, so a consumer (the cockpit) needs
no history: ``state``, ``percent_used``, ``due_at``, the business minutes used and paused.

Every figure is computed from the ticket's own event times against the supplier's contract
and its business calendar, never from the time the SLA service ran: a replay gives the same
events with the same ids.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

from schemas._types import MODEL_CONFIG, UtcDatetime
from schemas.vocab import EntityKind, Priority

__all__ = [
    "SLA_DATASCHEMA",
    "SLA_TYPES",
    "SlaClock",
    "SlaEvent",
    "SlaEventKind",
    "SlaState",
    "sla_type",
]

SLA_DATASCHEMA = "urn:nld:schakel:schema:slaevent:v1"


class SlaClock(StrEnum):
    """``response``: until the supplier first responds (the ticket leaves status ``new``);
    ``resolution``: until the ticket is resolved (or closed)."""

    RESPONSE = "response"
    RESOLUTION = "resolution"


class SlaEventKind(StrEnum):
    STARTED = "started"
    PAUSED = "paused"
    RESUMED = "resumed"
    WARNING = "warning"
    BREACHED = "breached"
    MET = "met"
    STOPPED = "stopped"
    CANCELLED = "cancelled"
    DISCREPANCY = "discrepancy"


class SlaState(StrEnum):
    """The clock's state after the event. ``breached`` while still running means the target
    has passed and the ticket is not resolved yet."""

    RUNNING = "running"
    PAUSED = "paused"
    BREACHED = "breached"
    MET = "met"
    CANCELLED = "cancelled"


#: CloudEvents ``type`` per event kind, e.g. ``nl.itsm.sla.warning.v1``
SLA_TYPES: dict[SlaEventKind, str] = {kind: f"nl.itsm.sla.{kind.value}.v1" for kind in SlaEventKind}


def sla_type(kind: SlaEventKind) -> str:
    return SLA_TYPES[kind]


class SlaEvent(BaseModel):
    """One moment of one SLA clock of one ticket, with the clock's state at that moment."""

    model_config = MODEL_CONFIG

    hub_id: str
    entity: EntityKind = Field(description="incident or change")
    supplier: str = Field(description="Supplier id from the hub configuration.")
    number: str | None = Field(default=None, description="The supplier's ticket number.")
    contract: str = Field(description="The supplier contract (DVO) the target comes from.")
    clock: SlaClock
    event: SlaEventKind
    state: SlaState
    at: UtcDatetime = Field(
        description="When it happened in the ticket's time: a ticket event's time, or the "
        "computed moment a threshold was passed."
    )
    priority: Priority = Field(description="The priority whose target applies at this moment.")
    calendar: str = Field(
        description="The business calendar and version the clock counts in, e.g. "
        "'werkdagen@2024-01-01', or '24x7'."
    )
    target_minutes: int = Field(ge=1, description="The contract's target in business minutes.")
    business_minutes: float = Field(
        ge=0, description="Business minutes used by the clock at ``at`` (pauses excluded)."
    )
    paused_minutes: float = Field(
        ge=0, description="Business minutes the clock stood still until ``at``."
    )
    percent_used: float = Field(ge=0, description="business_minutes / target_minutes * 100.")
    due_at: UtcDatetime | None = Field(
        default=None,
        description="When the target is reached if the clock keeps running; None once the "
        "clock stopped or while it is paused.",
    )
    threshold_percent: int | None = Field(
        default=None, description="The warning percentage passed (warning events)."
    )
    reason: str | None = Field(
        default=None,
        description="Why, in words: the hold reason of a pause, 'reopened', 'priority P3 -> P2'.",
    )
    supplier_due_at: UtcDatetime | None = Field(
        default=None, description="Discrepancy: the due time the supplier's own tool reports."
    )
    difference_minutes: float | None = Field(
        default=None,
        description="Discrepancy: supplier_due_at minus the contract's due_at, in minutes "
        "(positive: the supplier gives itself more time).",
    )
    ticket_version: int = Field(
        ge=0, description="The version of the ticket event this state was computed from."
    )
