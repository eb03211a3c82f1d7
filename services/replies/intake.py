"""Taking a reply: the request body, the reply id, the checks against the ticket. No I/O.

**Reply id.** With an ``Idempotency-Key`` header the id is derived from the team and the key
(a team cannot collide with another team's keys), so a client that retries after a timeout
sends the same reply. Without one, it is derived from the reply's content: the same team
saying the same thing on the same ticket twice counts as one reply (send a key to say it again).

**Checks against the ticket** (its last known state in the correlation store): accepting or
rejecting a resolution needs a resolved incident; raising the priority needs a higher one
than the ticket has.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from schemas import Priority, Visibility, derived_id
from schemas.replies import Reply, ReplyAction, ReplyEvent
from schemas.topics import REPLIES
from schemas.wire import CLOUDEVENTS_JSON, CONTENT_TYPE, CORRELATION_ID, EVENT_ID, HUB_ID
from services.messaging import OutboundMessage
from services.replies.auth import TeamIdentity
from services.replies.errors import InvalidReply, NotApplicable
from services.sync import Correlation

__all__ = [
    "IDEMPOTENCY_KEY",
    "ReplyBody",
    "check_applicable",
    "make_reply",
    "reply_id_for",
    "reply_message",
]

IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")

_RESOLUTION = (ReplyAction.ACCEPT_RESOLUTION, ReplyAction.REJECT_RESOLUTION)


class ReplyBody(BaseModel):
    """``POST /api/v1/tickets/{hub_id}/replies``: what the team says."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: ReplyAction
    body: Annotated[str, StringConstraints(max_length=200_000)] = ""
    visibility: Visibility = Visibility.PUBLIC
    priority: Priority | None = None
    reason: Annotated[str, StringConstraints(max_length=2000)] | None = None
    author: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        default=None, description="Display name of the functioneel beheerder."
    )


def reply_id_for(
    who: TeamIdentity, hub_id: str, body: ReplyBody, idempotency_key: str | None
) -> str:
    if idempotency_key is not None:
        return derived_id("reply", who.gemeente, who.team, hub_id, "key", idempotency_key)
    return derived_id(
        "reply",
        who.gemeente,
        who.team,
        hub_id,
        body.action.value,
        body.visibility.value,
        body.priority.value if body.priority else "",
        body.reason or "",
        body.body,
    )


def make_reply(
    who: TeamIdentity,
    hub_id: str,
    body: ReplyBody,
    idempotency_key: str | None,
    now: datetime,
) -> Reply:
    """The :class:`Reply`; InvalidReply (422) when it breaks the reply rules."""
    if idempotency_key is not None and not IDEMPOTENCY_KEY.fullmatch(idempotency_key):
        raise InvalidReply("Idempotency-Key must be 1-255 printable ASCII characters")
    try:
        return Reply(
            reply_id=reply_id_for(who, hub_id, body, idempotency_key),
            hub_id=hub_id,
            gemeente=who.gemeente,
            team=who.team,
            action=body.action,
            body=body.body,
            visibility=body.visibility,
            priority=body.priority,
            reason=body.reason,
            created_at=now,
            author=body.author,
        )
    except ValidationError as exc:
        problems = exc.errors(include_url=False, include_input=False)
        errors = [{"loc": [str(p) for p in e["loc"]], "msg": e["msg"]} for e in problems]
        detail = problems[0]["msg"].removeprefix("Value error, ")
        raise InvalidReply(detail, errors=errors) from None


def check_applicable(reply: Reply, ticket: Correlation) -> None:
    """NotApplicable (409) when the ticket's last known state does not allow the reply."""
    if reply.action in _RESOLUTION:
        if ticket.kind != "incident":
            raise InvalidReply(f"{reply.action.value} applies to incidents, not to a change")
        if ticket.status != "resolved":
            raise NotApplicable(
                f"{reply.action.value} needs a resolved incident; this one is {ticket.status}"
            )
    if reply.action is ReplyAction.RAISE_PRIORITY:
        assert reply.priority is not None  # the model requires it for this action
        if ticket.priority is not None and reply.priority.value >= ticket.priority:
            raise NotApplicable(
                f"the ticket has priority {ticket.priority}; {reply.priority.value} is not higher"
            )


def reply_message(event: ReplyEvent, correlation_id: str) -> OutboundMessage:
    """The reply event as it goes on ``schakel.replies.v1``, keyed by the hub id."""
    hub = event.subject.encode()
    return OutboundMessage(
        topic=REPLIES,
        value=event.model_dump_json().encode(),
        key=hub,
        headers=(
            (CONTENT_TYPE, CLOUDEVENTS_JSON),
            (EVENT_ID, event.id.encode()),
            (HUB_ID, hub),
            (CORRELATION_ID, correlation_id.encode()),
        ),
    )
