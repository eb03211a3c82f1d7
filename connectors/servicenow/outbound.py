"""A reply from functioneel beheer -> one ServiceNow Table API ``PATCH``.

``PATCH api/now/table/<incident|change_request>/<sys_id>`` with raw values (strings):

* the text goes into ``comments`` (public: customer-visible) or ``work_notes`` (internal);
* accept a resolution: ``state`` 7 Closed; reject it: ``state`` 2 In Progress (the reopen);
* raise the priority: ``impact`` and ``urgency`` (ServiceNow derives ``priority`` from them
  with its lookup rules): P1 1/1, P2 1/2, P3 2/2, P4 2/3, P5 3/3;
* correlation (eBonding): ``correlation_id`` the hub id and ``correlation_display``
  "Schakel", unless the record already correlates with another partner.

The echo of this write is recognised by the incident reader: ``sys_updated_by`` is the
integration account, and the journal entry starts with the Schakel marker.
"""

from __future__ import annotations

from typing import Any

from connectors._base import SupplierContext
from connectors.outbound import NativeRequest, ReplyTarget, reply_text, require_ticket_kind
from schemas import EntityKind, Priority, Visibility
from schemas.replies import Reply, ReplyAction

__all__ = [
    "CORRELATION_DISPLAY",
    "IMPACT_URGENCY",
    "STATE_CLOSED",
    "STATE_REOPENED",
    "translate_reply",
]

CORRELATION_DISPLAY = "Schakel"
STATE_REOPENED = "2"  # In Progress
STATE_CLOSED = "7"
_HEADERS = {"Accept": "application/json", "Content-Type": "application/json"}

#: P1-P5 -> (impact, urgency) that the default priority lookup turns into that priority.
IMPACT_URGENCY: dict[Priority, tuple[str, str]] = {
    Priority.P1: ("1", "1"),
    Priority.P2: ("1", "2"),
    Priority.P3: ("2", "2"),
    Priority.P4: ("2", "3"),
    Priority.P5: ("3", "3"),
}

_TABLES = {EntityKind.INCIDENT: "incident", EntityKind.CHANGE: "change_request"}


def translate_reply(reply: Reply, target: ReplyTarget, ctx: SupplierContext) -> list[NativeRequest]:
    require_ticket_kind(reply, target)
    table = _TABLES[target.kind]
    action = reply.action
    journal = "work_notes" if reply.visibility is Visibility.INTERNAL else "comments"
    body: dict[str, Any] = {journal: reply_text(reply, ctx.schakel_marker)}
    if action is ReplyAction.ACCEPT_RESOLUTION:
        body["state"] = STATE_CLOSED
    elif action is ReplyAction.REJECT_RESOLUTION:
        body["state"] = STATE_REOPENED
    elif action is ReplyAction.RAISE_PRIORITY:
        assert reply.priority is not None  # the model requires it for this action
        body["impact"], body["urgency"] = IMPACT_URGENCY[reply.priority]
    existing = target.ref.correlation_id
    if not existing or existing == reply.hub_id:
        body["correlation_id"] = reply.hub_id
        body["correlation_display"] = ctx.options.get("correlation_display", CORRELATION_DISPLAY)
    path = f"api/now/table/{table}/{target.ref.record_id}"
    return [NativeRequest("PATCH", path, body, dict(_HEADERS))]
