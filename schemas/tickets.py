"""Incident, Change and Comment: the common ticket model (v1).

A ticket is identified inside Schakel by its *hub id*, derived deterministically from the
supplier id, the entity kind and the supplier's own immutable record id, so every event of one
ticket lands on the same partition of every normalised topic, in order.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from schemas._types import MODEL_CONFIG, LongText, ShortText, UtcDatetime
from schemas.vocab import (
    ChangeRisk,
    ChangeStatus,
    ChangeType,
    HoldReason,
    Impact,
    IncidentStatus,
    Priority,
    ResolutionCode,
    SupplierSystem,
    Urgency,
    Visibility,
)

__all__ = [
    "Change",
    "CiRef",
    "Comment",
    "Incident",
    "Origin",
    "Resolution",
    "SupplierRef",
]


class SupplierRef(BaseModel):
    """Where the ticket lives at the supplier: kept for correlation (eBonding)."""

    model_config = MODEL_CONFIG

    supplier: str = Field(description="Supplier id from the hub configuration, e.g. 'kpn'.")
    system: SupplierSystem
    record_id: str = Field(description="Immutable record id (sys_id, UUID, issue id).")
    number: str | None = Field(default=None, description="Human ticket number, e.g. INC0000046.")
    correlation_id: str | None = Field(
        default=None, description="The partner reference the supplier stored (eBonding)."
    )
    correlation_display: str | None = None


class Origin(BaseModel):
    """Who made the change this event reports: a supplier user, or Schakel itself (echo)."""

    model_config = MODEL_CONFIG

    by_schakel: bool = Field(
        default=False,
        description="True when the supplier's record shows the change was written by Schakel.",
    )
    actor: str | None = Field(default=None, description="Display name or account of the actor.")


class CiRef(BaseModel):
    """A reference to the configuration item a ticket concerns, as the supplier names it."""

    model_config = MODEL_CONFIG

    record_id: str | None = None
    name: str | None = None


class Comment(BaseModel):
    """A journal entry: customer-visible comment or internal work note."""

    model_config = MODEL_CONFIG

    comment_id: str = Field(description="Deterministic id of the entry.")
    body: LongText
    visibility: Visibility
    author: str | None = None
    created_at: UtcDatetime | None = None
    by_schakel: bool = False


class Resolution(BaseModel):
    model_config = MODEL_CONFIG

    code: ResolutionCode
    supplier_code: str | None = Field(
        default=None, description="The code as the supplier wrote it."
    )
    notes: LongText | None = None


class Incident(BaseModel):
    """An unplanned interruption or reduction in quality of an IT service (ITIL)."""

    model_config = MODEL_CONFIG

    hub_id: str
    supplier_ref: SupplierRef
    title: ShortText
    description: LongText = ""
    status: IncidentStatus
    supplier_status: str | None = Field(
        default=None, description="The status as the supplier wrote it."
    )
    hold_reason: HoldReason | None = None
    priority: Priority | None = Field(
        description="P1-P5. Null means unknown: the supplier gave no priority (nor impact and "
        "urgency) and its configuration sets no default_priority.",
    )
    priority_given: bool = Field(
        default=True,
        description="False when the supplier did not give a priority (nor impact and urgency): "
        "priority is then the supplier's configured default_priority, or null (unknown).",
    )
    impact: Impact | None = None
    urgency: Urgency | None = None
    category: str | None = None
    subcategory: str | None = None
    ci: CiRef | None = None
    assignment_group: str | None = None
    assignee: str | None = None
    resolution: Resolution | None = None
    reopened: bool = Field(default=False, description="The ticket left resolved/closed again.")
    comments: tuple[Comment, ...] = ()
    opened_at: UtcDatetime | None = None
    updated_at: UtcDatetime
    resolved_at: UtcDatetime | None = None
    closed_at: UtcDatetime | None = None
    response_due_at: UtcDatetime | None = None
    resolve_due_at: UtcDatetime | None = None
    version: int = Field(
        ge=0,
        description="Supplier's update counter when it has one (sys_mod_count), else derived "
        "from updated_at; a higher version is newer.",
    )
    origin: Origin = Origin()


class Change(BaseModel):
    """A change request (RFC) planned by a supplier."""

    model_config = MODEL_CONFIG

    hub_id: str
    supplier_ref: SupplierRef
    title: ShortText
    description: LongText = ""
    change_type: ChangeType
    status: ChangeStatus
    supplier_status: str | None = None
    on_hold: bool = False
    risk: ChangeRisk | None = None
    priority: Priority | None = None
    impact: Impact | None = None
    category: str | None = None
    ci: CiRef | None = None
    assignment_group: str | None = None
    approval: str | None = None
    planned_start: UtcDatetime | None = None
    planned_end: UtcDatetime | None = None
    actual_start: UtcDatetime | None = None
    actual_end: UtcDatetime | None = None
    close_code: str | None = None
    implementation_plan: LongText | None = None
    backout_plan: LongText | None = None
    comments: tuple[Comment, ...] = ()
    opened_at: UtcDatetime | None = None
    updated_at: UtcDatetime
    version: int = Field(ge=0)
    origin: Origin = Origin()
