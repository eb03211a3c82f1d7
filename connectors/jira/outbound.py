"""A reply from functioneel beheer -> Jira Cloud REST v3 requests (relative to ``.../rest/api/3/``).

* the text: ``POST issue/<id>/comment`` with an Atlassian Document Format body; an internal
  reply carries the Jira Service Management property ``sd.public.comment`` ``{"internal":
  true}`` (an internal note, not shown to the customer);
* reject a resolution: the comment, then ``POST issue/<id>/transitions`` with the transition
  id of option ``reopen_transition`` (transition ids are per workflow, so it must be
  configured; without it the reply is refused with that reason);
* accept a resolution: the comment, then the transition of option ``accept_transition`` when
  the supplier configured one (otherwise the comment says it);
* raise the priority: ``PUT issue/<id>`` with ``fields.priority.name`` (option
  ``priority_<P1..P5>``, default Highest/High/Medium/Low/Lowest), then the comment.

The echo is recognised by the Jira reader: the comment body starts with the Schakel marker,
and the change is made by the integration account.
"""

from __future__ import annotations

from typing import Any

from connectors._base import SupplierContext
from connectors.errors import UnsupportedPayload
from connectors.outbound import (
    NativeRequest,
    ReplyTarget,
    option_for_priority,
    reply_text,
    require_ticket_kind,
)
from schemas import Priority, Visibility
from schemas.replies import Reply, ReplyAction

__all__ = ["PRIORITY_NAMES", "adf", "translate_reply"]

PRIORITY_NAMES: dict[Priority, str] = {
    Priority.P1: "Highest",
    Priority.P2: "High",
    Priority.P3: "Medium",
    Priority.P4: "Low",
    Priority.P5: "Lowest",
}
_HEADERS = {"Accept": "application/json", "Content-Type": "application/json"}


def adf(text: str) -> dict[str, Any]:
    """Plain text as an Atlassian Document Format document: a paragraph per blank-line
    separated block, hard breaks for single newlines."""
    paragraphs: list[dict[str, Any]] = []
    for block in text.split("\n\n"):
        content: list[dict[str, Any]] = []
        for index, line in enumerate(block.split("\n")):
            if index:
                content.append({"type": "hardBreak"})
            if line:
                content.append({"type": "text", "text": line})
        paragraphs.append({"type": "paragraph", "content": content})
    return {"type": "doc", "version": 1, "content": paragraphs}


def _comment(reply: Reply, issue: str, ctx: SupplierContext) -> NativeRequest:
    internal = reply.visibility is Visibility.INTERNAL
    body: dict[str, Any] = {
        "body": adf(reply_text(reply, ctx.schakel_marker)),
        "properties": [{"key": "sd.public.comment", "value": {"internal": internal}}],
    }
    return NativeRequest("POST", f"issue/{issue}/comment", body, dict(_HEADERS))


def _transition(issue: str, transition_id: str) -> NativeRequest:
    body = {"transition": {"id": transition_id}}
    return NativeRequest("POST", f"issue/{issue}/transitions", body, dict(_HEADERS))


def translate_reply(reply: Reply, target: ReplyTarget, ctx: SupplierContext) -> list[NativeRequest]:
    require_ticket_kind(reply, target)
    issue = target.ref.record_id
    action = reply.action
    if action is ReplyAction.REJECT_RESOLUTION:
        reopen = ctx.options.get("reopen_transition", "").strip()
        if not reopen:
            raise UnsupportedPayload(
                "rejecting a resolution needs the supplier option 'reopen_transition' "
                "(the id of the Jira transition that reopens an issue)"
            )
        return [_comment(reply, issue, ctx), _transition(issue, reopen)]
    if action is ReplyAction.ACCEPT_RESOLUTION:
        accept = ctx.options.get("accept_transition", "").strip()
        comment = _comment(reply, issue, ctx)
        return [comment, _transition(issue, accept)] if accept else [comment]
    if action is ReplyAction.RAISE_PRIORITY:
        assert reply.priority is not None  # the model requires it for this action
        name = option_for_priority(ctx, reply.priority, PRIORITY_NAMES)
        update = NativeRequest(
            "PUT", f"issue/{issue}", {"fields": {"priority": {"name": name}}}, dict(_HEADERS)
        )
        return [update, _comment(reply, issue, ctx)]
    return [_comment(reply, issue, ctx)]
