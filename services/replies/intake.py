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

import hashlib
import re
import time
from collections import OrderedDict
from collections.abc import AsyncIterable, Callable, Mapping
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from schemas import Priority, Visibility, derived_id
from schemas.replies import Reply, ReplyAction, ReplyEvent
from schemas.topics import REPLIES
from schemas.wire import CLOUDEVENTS_JSON, CONTENT_TYPE, CORRELATION_ID, EVENT_ID, HUB_ID
from services import http
from services.http import declared_length
from services.messaging import OutboundMessage
from services.replies.auth import TeamIdentity
from services.replies.errors import (
    BodyTimeout,
    BodyTooLarge,
    IdempotencyKeyReused,
    InvalidReply,
    NotApplicable,
)
from services.tickets import Correlation

__all__ = [
    "IDEMPOTENCY_KEY",
    "ReplyBody",
    "check_applicable",
    "content_fingerprint",
    "make_reply",
    "read_body",
    "reply_id_for",
    "reply_message",
]

IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")

_RESOLUTION = (ReplyAction.ACCEPT_RESOLUTION, ReplyAction.REJECT_RESOLUTION)

#: A reply body is at most 200,000 characters of text (ReplyBody): 1 MiB of JSON holds it.
MAX_BODY_BYTES = 1024 * 1024
BODY_TIMEOUT_S = 30.0


async def read_body(
    chunks: AsyncIterable[bytes],
    headers: Mapping[str, str],
    *,
    limit: int = MAX_BODY_BYTES,
    timeout_s: float = BODY_TIMEOUT_S,
) -> bytes:
    """The request body, refused unread when ``Content-Length`` says it is too large, and as
    soon as more than ``limit`` bytes arrive (413) or it takes too long (408): a request is
    never held whole beyond the limit."""
    too_large = BodyTooLarge(f"a request body is at most {limit} bytes")
    try:
        declared = declared_length(headers)
    except ValueError as exc:
        raise InvalidReply(str(exc)) from None
    if declared is not None and declared > limit:
        raise too_large
    too_slow = BodyTimeout(f"the body did not arrive within {timeout_s:g} s")
    return await http.read_capped(chunks, limit, timeout_s, too_large=too_large, too_slow=too_slow)


def content_fingerprint(hub_id: str, body: ReplyBody) -> str:
    """What a request says, as a digest: equal for a retry, different for another reply."""
    return hashlib.sha256(hub_id.encode() + b"\0" + body.model_dump_json().encode()).hexdigest()


class IdempotencyLedger:
    """The content each reply id (a team's Idempotency-Key on a ticket) was first sent with,
    for ``ttl_s``: a reuse with other content is refused (422), not taken as the first.

    Per process and bounded (oldest first); a restarted or second API process does not know
    the keys the first one saw.
    """

    def __init__(
        self,
        *,
        ttl_s: float = 24 * 3600.0,
        max_entries: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._seen: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._ttl_s = ttl_s
        self._max = max_entries
        self._clock = clock

    def check(self, reply_id: str, fingerprint: str) -> None:
        now = self._clock()
        seen = self._seen.get(reply_id)
        if seen is not None and seen[1] > now and seen[0] != fingerprint:
            raise IdempotencyKeyReused(
                "this Idempotency-Key was used for another request; use a new key"
            )
        if seen is None or seen[1] <= now:
            self._seen[reply_id] = (fingerprint, now + self._ttl_s)
            self._seen.move_to_end(reply_id)
            while len(self._seen) > self._max:
                self._seen.popitem(last=False)


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
