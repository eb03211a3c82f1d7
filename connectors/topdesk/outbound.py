"""A reply from functioneel beheer -> one TOPdesk incident ``PATCH`` with an action entry.

``PATCH incidents/id/<id>`` (relative to ``.../tas/api/``):

* the text becomes a progress-trail entry: ``action``, with ``actionInvisibleForCaller``
  true for an internal reply;
* accept a resolution: ``closed`` true; reject it: ``completed`` false (the reopen);
* raise the priority: ``priority`` by name, the supplier's option ``priority_<P1..P5>`` or the
  defaults below (TOPdesk lookups are named per site);
* correlation (eBonding): ``externalNumber`` the hub id (36 characters, the field takes 60),
  unless the incident already carries another partner's number.

Operator changes take no replies: TOPdesk documents no write of their progress trail.
The echo of this write is recognised by the TOPdesk reader: the modifier is the integration
account, or the newest progress-trail entry starts with the Schakel marker.
"""

from __future__ import annotations

from typing import Any

from connectors._base import SupplierContext
from connectors.errors import UnsupportedPayload
from connectors.outbound import NativeRequest, ReplyTarget, option_for_priority, reply_text
from schemas import EntityKind, Priority, Visibility
from schemas.replies import Reply, ReplyAction

__all__ = ["PRIORITY_NAMES", "translate_reply"]

#: P1-P5 -> priority name, when the supplier names no ``priority_<Pn>`` option.
PRIORITY_NAMES: dict[Priority, str] = {
    Priority.P1: "P1 - Kritiek",
    Priority.P2: "P2 - Hoog",
    Priority.P3: "P3 - Gemiddeld",
    Priority.P4: "P4 - Laag",
    Priority.P5: "P5 - Planning",
}
_HEADERS = {"Accept": "application/json", "Content-Type": "application/json"}


def translate_reply(reply: Reply, target: ReplyTarget, ctx: SupplierContext) -> list[NativeRequest]:
    if target.kind is not EntityKind.INCIDENT:
        raise UnsupportedPayload(
            "TOPdesk takes replies on incidents only (no documented write for operator changes)"
        )
    body: dict[str, Any] = {
        "action": reply_text(reply, ctx.schakel_marker),
        "actionInvisibleForCaller": reply.visibility is Visibility.INTERNAL,
    }
    if reply.action is ReplyAction.ACCEPT_RESOLUTION:
        body["closed"] = True
    elif reply.action is ReplyAction.REJECT_RESOLUTION:
        body["completed"] = False
    elif reply.action is ReplyAction.RAISE_PRIORITY:
        assert reply.priority is not None  # the model requires it for this action
        body["priority"] = {"name": option_for_priority(ctx, reply.priority, PRIORITY_NAMES)}
    existing = target.ref.correlation_id
    if not existing or existing == reply.hub_id:
        body["externalNumber"] = reply.hub_id
    path = f"incidents/id/{target.ref.record_id}"
    return [NativeRequest("PATCH", path, body, dict(_HEADERS))]
