"""RoutingDecision: why a ticket went where it went (content-based router, recipient list)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from schemas._types import MODEL_CONFIG, GemeenteCode, UtcDatetime
from schemas.tickets import Change, Incident

__all__ = ["ROUTED_DATASCHEMA", "RecipientRef", "RoutedTicket", "RoutingDecision"]

#: ``dataschema`` of a routed event (``nl.itsm.<kind>.routed.v1``)
ROUTED_DATASCHEMA = "urn:nld:schakel:schema:routedticket:v1"


class RecipientRef(BaseModel):
    model_config = MODEL_CONFIG

    gemeente: GemeenteCode | None = Field(description="None for the regie triage queue.")
    team: str


class RoutingDecision(BaseModel):
    model_config = MODEL_CONFIG

    hub_id: str
    event_id: str
    rule_id: str | None = Field(description="The rule that matched; None when none did.")
    basis: str = Field(description="'rule', 'ci-owner' or 'triage'.")
    inputs: dict[str, str | list[str] | None] = Field(
        description="The ticket and CMDB facts the decision used."
    )
    recipients: tuple[RecipientRef, ...]
    explanation: str = Field(description="The decision in words an FB team understands.")
    decided_at: UtcDatetime


class RoutedTicket(BaseModel):
    """What lands on ``schakel.gemeente.<GMxxxx>.v1`` (and ``schakel.triage.v1``): the ticket
    as normalised, with the decision that sent it there.

    The envelope is a CloudEvent of type ``nl.itsm.<kind>.routed.v1``; its id is derived from
    the normalised event id and the gemeente (or "triage"), so a re-routed redelivery keeps it.
    """

    model_config = MODEL_CONFIG

    kind: Literal["incident", "change"]
    ticket: Incident | Change
    decision: RoutingDecision
