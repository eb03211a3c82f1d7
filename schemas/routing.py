"""RoutingDecision: why a ticket went where it went (content-based router, recipient list)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from schemas._types import MODEL_CONFIG, GemeenteCode, UtcDatetime

__all__ = ["RecipientRef", "RoutingDecision"]


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
