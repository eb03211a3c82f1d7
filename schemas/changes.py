"""Change findings: what the regie's change calendar finds in the suppliers' plans (v1).

The changes service (``services.changes``) keeps one forward schedule of every supplier's
changes and reports each finding on ``schakel.change-findings.v1``:

* ``collision``: two changes whose windows overlap (or lie less than the configured margin
  apart) and whose affected configuration items meet, directly or through CMDB relations;
* ``blackout``: a change inside a gemeente's blackout period (election days, the WOZ week);
* ``outside_maintenance_window``: a change not inside one of a gemeente's agreed
  maintenance windows (local time, Europe/Amsterdam);
* ``emergency``: an emergency change;
* ``unapproved_start``: a change that started (or is due to start) without approval;
* ``overrun``: a change that runs past its planned window.

A finding is *raised*, and *withdrawn* when its cause goes away (a change moved or
cancelled). Both are a :class:`ChangeFindingEvent` (CloudEvent 1.0, NL GOV profile) keyed by
the finding id, so the raise and withdrawal of one finding stay in order; ``sequence`` is the
finding's revision. Event ids are deterministic (finding id, state, revision): a finding
reported twice (a redelivered batch) is the same event.

Advance notices to the FB teams are not findings: they travel as routed tickets
(:class:`~schemas.routing.RoutedTicket` with basis :data:`NOTICE_BASIS`) on the gemeente
topics, so the delivery service brings them with its guarantees.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from schemas._types import MODEL_CONFIG, GemeenteCode, ShortText, UtcDatetime
from schemas.envelope import derived_id
from schemas.vocab import ChangeStatus, ChangeType

__all__ = [
    "FINDINGS_DATASCHEMA",
    "FINDINGS_SOURCE",
    "NOTICE_BASIS",
    "ChangeFinding",
    "ChangeFindingEvent",
    "FindingChange",
    "FindingKind",
    "FindingState",
    "NoticeKind",
    "finding_event",
]

FINDINGS_DATASCHEMA = "urn:nld:schakel:schema:changefinding:v1"
#: the hub itself as the CloudEvents source of its findings (as for audit events)
FINDINGS_SOURCE = "urn:nld:kvk:00000000:systeem:schakel"
#: ``RoutingDecision.basis`` of an advance notice about a change (on a gemeente topic)
NOTICE_BASIS = "change-notice"

FindingKind = Literal[
    "collision",
    "blackout",
    "outside_maintenance_window",
    "emergency",
    "unapproved_start",
    "overrun",
]
FindingState = Literal["raised", "withdrawn"]
#: what an advance notice announces: the change ahead, moved, cancelled, done, failed
NoticeKind = Literal["announced", "moved", "cancelled", "implemented", "failed"]


class FindingChange(BaseModel):
    """A change a finding concerns, as it was planned when the finding was made."""

    model_config = MODEL_CONFIG

    hub_id: str
    supplier: str
    number: str | None = None
    title: ShortText
    change_type: ChangeType
    status: ChangeStatus
    planned_start: UtcDatetime | None = None
    planned_end: UtcDatetime | None = None


class ChangeFinding(BaseModel):
    """One finding about one change, or about two that collide."""

    model_config = MODEL_CONFIG

    finding_id: str = Field(description="Deterministic: kind and what it is about.")
    kind: FindingKind
    state: FindingState
    revision: int = Field(ge=1, description="Counts the finding's raise/withdraw events.")
    changes: tuple[FindingChange, ...] = Field(min_length=1)
    gemeenten: tuple[GemeenteCode, ...] = Field(
        default=(), description="The gemeenten the finding concerns."
    )
    cis: tuple[str, ...] = Field(
        default=(), description="Names of the configuration items where the changes meet."
    )
    explanation: str = Field(description="The finding in words (Dutch), for the CAB.")
    detected_at: UtcDatetime


class ChangeFindingEvent(BaseModel):
    """A :class:`ChangeFinding` as a CloudEvent on ``schakel.change-findings.v1``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(min_length=1)
    source: Annotated[
        str, StringConstraints(pattern=r"^urn:nld:(oin|kvk):[0-9A-Za-z]+:systeem:[a-z0-9-]+$")
    ]
    type: Annotated[str, StringConstraints(pattern=r"^nl\.schakel\.changefinding\.[a-z]+\.v1$")]
    subject: str = Field(description="The finding id.")
    time: UtcDatetime
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: Literal["urn:nld:schakel:schema:changefinding:v1"] = (
        "urn:nld:schakel:schema:changefinding:v1"
    )
    sequence: str = Field(description="The finding's revision, as text.")
    sequencetype: Literal["Integer"] = "Integer"
    data: ChangeFinding


def finding_event(finding: ChangeFinding, *, source: str = FINDINGS_SOURCE) -> ChangeFindingEvent:
    """The event of ``finding``; its id derives from the finding id, state and revision."""
    return ChangeFindingEvent(
        id=derived_id("change-finding", finding.finding_id, finding.state, str(finding.revision)),
        source=source,
        type=f"nl.schakel.changefinding.{finding.state}.v1",
        subject=finding.finding_id,
        time=finding.detected_at,
        sequence=str(finding.revision),
        data=finding,
    )
