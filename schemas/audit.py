"""Audit events: outcomes that no other topic carries, on ``schakel.audit.v1`` (v1).

A delivery's result (delivered, failed, superseded), a supplier call's result made by the
sync service (applied, failed, published for the supplier to fetch), and every action a
person takes in the regie's cockpit (sign-in, dead-letter replay, manual route) are each an
:class:`AuditEntry`, carried as an :class:`AuditEvent` (CloudEvent 1.0, NL GOV profile) keyed
by the hub id of the ticket it concerns (or the actor, when it concerns none), so the events
of one ticket stay in order. The ``id`` is deterministic: the same outcome reported twice
(a redelivered batch) is the same event, and the feed stores it once.

No personal data beyond what an audit trail needs: ``actor`` is a service name or the
account name of the person who acted.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from schemas._types import MODEL_CONFIG, UtcDatetime
from schemas.envelope import derived_id

__all__ = [
    "AUDIT_DATASCHEMA",
    "AUDIT_SOURCE",
    "AuditEntry",
    "AuditEvent",
    "AuditOutcome",
    "audit_event",
]

AUDIT_DATASCHEMA = "urn:nld:schakel:schema:audit:v1"
#: the hub itself as the CloudEvents source of its audit events (the regie's KvK number is
#: not part of the hub's config; an installation may publish with its own)
AUDIT_SOURCE = "urn:nld:kvk:00000000:systeem:schakel"

AuditOutcome = Literal["ok", "failed", "skipped"]
Action = Annotated[str, StringConstraints(pattern=r"^[a-z]+(\.[a-z_]+)+$")]


class AuditEntry(BaseModel):
    """One outcome: who did what to which ticket, when, and how it ended."""

    model_config = MODEL_CONFIG

    action: Action = Field(
        description="What happened, e.g. 'delivery.delivered', 'sync.applied', "
        "'cockpit.replay', 'cockpit.route', 'cockpit.login'."
    )
    outcome: AuditOutcome
    actor: str = Field(min_length=1, max_length=200, description="Service name or account.")
    hub_id: str | None = Field(default=None, description="The ticket it concerns, if any.")
    at: UtcDatetime
    summary: str = Field(max_length=2000, description="The outcome in one line (Dutch).")
    gemeente: str | None = None
    team: str | None = None
    channel: str | None = None
    supplier: str | None = None
    attempts: int | None = Field(default=None, ge=0)
    reference: str | None = Field(
        default=None, description="The id this outcome is about: routed event, reply, offset."
    )
    detail: dict[str, str | int | float | bool | None] = Field(default_factory=dict)


class AuditEvent(BaseModel):
    """An :class:`AuditEntry` as a CloudEvent on ``schakel.audit.v1``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(min_length=1)
    source: Annotated[
        str, StringConstraints(pattern=r"^urn:nld:(oin|kvk):[0-9A-Za-z]+:systeem:[a-z0-9-]+$")
    ]
    type: Annotated[str, StringConstraints(pattern=r"^nl\.schakel\.audit\.[a-z_.]+\.v1$")]
    subject: str = Field(description="The hub id, or the actor when no ticket is concerned.")
    time: UtcDatetime
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: Literal["urn:nld:schakel:schema:audit:v1"] = "urn:nld:schakel:schema:audit:v1"
    data: AuditEntry


def audit_event(entry: AuditEntry, *identity: str, source: str = AUDIT_SOURCE) -> AuditEvent:
    """The event of ``entry``; its id derives from ``identity`` (what makes the outcome
    unique, e.g. the idempotency key and the result), so a repeat has the same id."""
    parts = identity or (entry.action, entry.hub_id or "", entry.at.isoformat())
    return AuditEvent(
        id=derived_id("audit", entry.action, *parts),
        source=source,
        type=f"nl.schakel.audit.{entry.action}.v1",
        subject=entry.hub_id or entry.actor,
        time=entry.at,
        data=entry,
    )
