"""A reply from functioneel beheer -> one Xurrent (4me) ``PATCH requests/<id>`` (relative to
``.../v1/``).

* the text: ``note``, with ``internal_note`` true for an internal reply;
* reject a resolution: ``status`` in_progress (the reopen); accepting one needs no field
  (a completed request stays completed), the note says it;
* raise the priority: ``impact`` top/high/medium/low for P1/P2/P3/P4 (the reader maps them
  back to those priorities; P5 is low as well);
* the account: header ``X-4me-Account`` from option ``account`` when the supplier sets it.

The echo is recognised by the Xurrent reader: the event's person is the integration account,
or its note starts with the Schakel marker.
"""

from __future__ import annotations

from typing import Any

from connectors._base import SupplierContext
from connectors.outbound import (
    NativeRequest,
    ReplyTarget,
    option_for_priority,
    reply_text,
    require_ticket_kind,
)
from schemas import Priority, Visibility
from schemas.replies import Reply, ReplyAction

__all__ = ["IMPACTS", "STATUS_REOPENED", "translate_reply"]

STATUS_REOPENED = "in_progress"
IMPACTS: dict[Priority, str] = {
    Priority.P1: "top",
    Priority.P2: "high",
    Priority.P3: "medium",
    Priority.P4: "low",
    Priority.P5: "low",
}


def translate_reply(reply: Reply, target: ReplyTarget, ctx: SupplierContext) -> list[NativeRequest]:
    require_ticket_kind(reply, target)
    body: dict[str, Any] = {
        "note": reply_text(reply, ctx.schakel_marker),
        "internal_note": reply.visibility is Visibility.INTERNAL,
    }
    if reply.action is ReplyAction.REJECT_RESOLUTION:
        body["status"] = STATUS_REOPENED
    elif reply.action is ReplyAction.RAISE_PRIORITY:
        assert reply.priority is not None  # the model requires it for this action
        body["impact"] = option_for_priority(ctx, reply.priority, IMPACTS)
    headers = {"Accept": "application/json", "Content-Type": "application/json"}
    account = ctx.options.get("account", "").strip()
    if account:
        headers["X-4me-Account"] = account
    return [NativeRequest("PATCH", f"requests/{target.ref.record_id}", body, headers)]
