"""Replies from functioneel beheer and the native commands they become (eBonding, v1).

A :class:`Reply` is what an FB team answers on a ticket routed to it: a comment, a request for
information, accepting or rejecting a resolution, or raising the priority. It travels as a
:class:`ReplyEvent` (CloudEvent 1.0, NL GOV profile) on ``schakel.replies.v1``, keyed by the
hub id so all replies on one ticket stay in order. Its ``reply_id`` is the idempotency key:
the same reply delivered twice reaches the supplier once.

The sync service turns each reply into one or more :class:`OutboundCommand`: the supplier
system's own request (method, path relative to the supplier's API base URL, JSON body, headers
without secrets), published on ``schakel.outbound.<supplier>`` keyed by the hub id, and sent
to the supplier's API where one is configured.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from schemas._types import MODEL_CONFIG, GemeenteCode, LongText, UtcDatetime
from schemas.tickets import SupplierRef
from schemas.vocab import Priority, SupplierSystem, Visibility

__all__ = [
    "COMMAND_DATASCHEMA",
    "REPLY_DATASCHEMA",
    "REPLY_TYPES",
    "OutboundCommand",
    "Reply",
    "ReplyAction",
    "ReplyEvent",
    "reply_type",
]


class ReplyAction(StrEnum):
    """What an FB team does with its reply (commands, so imperative)."""

    COMMENT = "comment"
    REQUEST_INFO = "request_info"
    ACCEPT_RESOLUTION = "accept_resolution"
    REJECT_RESOLUTION = "reject_resolution"
    RAISE_PRIORITY = "raise_priority"


#: ``type`` of the reply CloudEvent per action; reverse DNS, one version segment.
REPLY_TYPES: dict[ReplyAction, str] = {
    action: f"nl.itsm.reply.{action.value.replace('_', '')}.v1" for action in ReplyAction
}
REPLY_DATASCHEMA = "urn:nld:schakel:schema:reply:v1"
COMMAND_DATASCHEMA = "urn:nld:schakel:schema:outboundcommand:v1"

_NEEDS_TEXT = (ReplyAction.COMMENT, ReplyAction.REQUEST_INFO)

TeamId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,40}$")]
Reason = Annotated[str, StringConstraints(max_length=2000)]
DisplayName = Annotated[str, StringConstraints(max_length=200)]


def reply_type(action: ReplyAction) -> str:
    """The CloudEvent ``type`` of a reply: ``nl.itsm.reply.<action>.v1``.

    The action's underscore is dropped (``nl.itsm.reply.rejectresolution.v1``): the NL GOV
    profile's reverse-DNS types take lowercase letters and digits per segment.
    """
    return REPLY_TYPES[action]


class Reply(BaseModel):
    """An answer of one FB team on one ticket routed to it."""

    model_config = MODEL_CONFIG

    reply_id: str = Field(
        min_length=1,
        max_length=64,
        description="Idempotency key: the client's, or derived from the Idempotency-Key "
        "header (or the reply's content) by the replies API.",
    )
    hub_id: str = Field(min_length=1, max_length=64)
    gemeente: GemeenteCode
    team: TeamId
    action: ReplyAction
    body: LongText = Field(default="", description="The text for the supplier.")
    visibility: Visibility = Field(
        default=Visibility.PUBLIC,
        description="public: the caller may read it (ServiceNow comments); internal: a work "
        "note for the supplier's agents.",
    )
    priority: Priority | None = Field(default=None, description="The new priority (raise only).")
    reason: Reason | None = Field(
        default=None, description="Why: required to raise the priority or reject a resolution."
    )
    created_at: UtcDatetime
    author: DisplayName | None = Field(
        default=None, description="Display name of the functioneel beheerder, if given."
    )

    @model_validator(mode="after")
    def _fields_for_action(self) -> Self:
        action = self.action
        if action in _NEEDS_TEXT and not self.body.strip():
            raise ValueError(f"a {action.value} reply needs a body")
        if action is ReplyAction.REJECT_RESOLUTION and not (
            (self.reason or "").strip() or self.body.strip()
        ):
            raise ValueError("rejecting a resolution needs a reason (or a body)")
        if action is ReplyAction.RAISE_PRIORITY:
            if self.priority is None:
                raise ValueError("raise_priority needs the new priority")
            if not (self.reason or "").strip():
                raise ValueError("raise_priority needs a reason")
        elif self.priority is not None:
            raise ValueError("priority is only allowed with raise_priority")
        return self


class ReplyEvent(BaseModel):
    """A :class:`Reply` as a CloudEvent 1.0 (NL GOV profile) on ``schakel.replies.v1``.

    ``id`` is the reply id (a redelivered reply keeps it), ``subject`` the hub id, ``source``
    the system that took the reply (the hub's replies API, or an FB system producing to
    Kafka), ``time`` when it was made. No personal data in the context attributes.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(min_length=1, max_length=64)
    source: Annotated[
        str, StringConstraints(pattern=r"^urn:nld:(oin|kvk):[0-9A-Za-z]+:systeem:[a-z0-9-]+$")
    ]
    type: Annotated[str, StringConstraints(pattern=r"^nl\.itsm\.reply\.[a-z0-9]+\.v1$")]
    subject: str = Field(description="The hub id of the ticket.")
    time: UtcDatetime
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: Literal["urn:nld:schakel:schema:reply:v1"] = "urn:nld:schakel:schema:reply:v1"
    data: Reply

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.id != self.data.reply_id:
            raise ValueError("id must be the reply's reply_id")
        if self.subject != self.data.hub_id:
            raise ValueError("subject must be the reply's hub_id")
        if self.type != reply_type(self.data.action):
            raise ValueError(f"type must be {reply_type(self.data.action)!r} for this action")
        return self

    @classmethod
    def of(cls, reply: Reply, source: str) -> ReplyEvent:
        """The event of ``reply`` as ``source`` publishes it."""
        return cls(
            id=reply.reply_id,
            source=source,
            type=reply_type(reply.action),
            subject=reply.hub_id,
            time=reply.created_at,
            data=reply,
        )


class OutboundCommand(BaseModel):
    """One native request to a supplier's tool, derived from a reply (a command message).

    ``path`` is relative to the supplier's ``api_base_url``; ``headers`` never hold secrets
    (the sync service adds ``Authorization`` of the integration account when it calls).
    A reply may need several requests (Jira: comment, then transition); they are ``step``
    0..``steps``-1 and must be sent in that order.
    """

    model_config = MODEL_CONFIG

    command_id: str = Field(description="Deterministic: the reply id and the step.")
    reply_id: str
    hub_id: str
    supplier: str
    system: SupplierSystem
    action: ReplyAction
    step: int = Field(ge=0)
    steps: int = Field(ge=1)
    method: Literal["POST", "PUT", "PATCH"]
    path: str = Field(min_length=1)
    body: dict[str, Any]
    headers: dict[str, str] = Field(default_factory=dict)
    supplier_ref: SupplierRef = Field(
        description="Correlation: the supplier's record the command updates."
    )
    created_at: UtcDatetime
